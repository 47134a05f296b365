package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// apply POSTs a YAML bundle to the admin API's /v1/apply and fails on any
// status but 2xx, with the body the server answered (its violations).
func apply(ctx context.Context, hc *http.Client, adminURL string, bundle []byte) error {
	url := strings.TrimSuffix(adminURL, "/") + "/v1/apply"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(bundle))
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	req.Header.Set("Content-Type", "application/yaml")
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return fmt.Errorf("apply: read answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("apply: %s: %s", resp.Status, bytes.TrimSpace(body))
	}
	return nil
}

// maxApplyBytes keeps each POST under the admin API's 1 MiB body limit.
const maxApplyBytes = 900 << 10

// chunks splits a multi-document YAML bundle at document separators into
// pieces of at most limit bytes (a single larger document stays whole), in
// order: applied one after the other, every reference (Gateway and
// Services before the APIs, an API before its Policy) is already stored.
func chunks(bundle []byte, limit int) [][]byte {
	const sep = "\n---\n"
	var (
		out [][]byte
		cur []byte
	)
	for _, doc := range bytes.Split(bundle, []byte(sep)) {
		if len(cur) > 0 && len(cur)+len(sep)+len(doc) > limit {
			out = append(out, cur)
			cur = nil
		}
		if len(cur) > 0 {
			cur = append(cur, sep...)
		}
		cur = append(cur, doc...)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// applyAll applies a bundle in chunks the admin API accepts.
func applyAll(ctx context.Context, hc *http.Client, adminURL string, bundle []byte) error {
	for i, c := range chunks(bundle, maxApplyBytes) {
		if err := apply(ctx, hc, adminURL, c); err != nil {
			return fmt.Errorf("chunk %d: %w", i, err)
		}
	}
	return nil
}
