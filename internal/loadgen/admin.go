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
