package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"

	"tollgate.dev/tollgate/internal/admin"
	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/store"
	"tollgate.dev/tollgate/internal/xds"
)

// maxResponseBytes caps an answer read into memory. Lists of many thousands
// of objects fit; a misbehaving server cannot exhaust the CLI's memory.
const maxResponseBytes = 256 << 20

// Client talks to one control plane's admin API.
type Client struct {
	base  *url.URL
	hc    *http.Client
	token string
}

// WithToken returns a copy of c that sends token as its bearer credential
// (`Authorization: Bearer <token>`) on every request.
func (c *Client) WithToken(token string) *Client {
	cp := *c
	cp.token = token
	return &cp
}

// New returns a client for the admin API at baseURL (for example
// http://127.0.0.1:9400). A nil httpClient uses http.DefaultClient; callers
// wanting timeouts pass their own or use contexts.
func New(baseURL string, httpClient *http.Client) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("server URL %q must be http:// or https:// followed by host:port", baseURL)
	}
	u.Path, u.RawPath = strings.TrimSuffix(u.Path, "/"), ""
	u.RawQuery, u.Fragment = "", ""
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &Client{base: u, hc: httpClient}, nil
}

// Apply posts a bundle (one or many YAML or JSON documents) to /v1/apply;
// the server applies all of it or none of it.
func (c *Client) Apply(ctx context.Context, body []byte, dryRun bool) (store.Result, error) {
	var res store.Result
	err := c.do(ctx, http.MethodPost, "/v1/apply", dryRunQuery(dryRun), body, nil, &res)
	return res, err
}

// Get reads one object. Write-only fields come back empty.
func (c *Client) Get(ctx context.Context, kind model.Kind, name string) (model.Object, error) {
	if err := kind.Validate(); err != nil {
		return nil, err
	}
	var raw json.RawMessage
	if err := c.do(ctx, http.MethodGet, objectPath(kind, name), nil, nil, nil, &raw); err != nil {
		return nil, err
	}
	return decodeObject(kind, raw)
}

// List reads every object of kind matching selector (label selector syntax:
// "k=v,k2!=v2,k3"; empty selects all) and the store revision they were read
// at.
func (c *Client) List(ctx context.Context, kind model.Kind, selector string) ([]model.Object, uint64, error) {
	if err := kind.Validate(); err != nil {
		return nil, 0, err
	}
	q := url.Values{}
	if selector != "" {
		q.Set("labelSelector", selector)
	}
	var list struct {
		Revision uint64            `json:"revision"`
		Items    []json.RawMessage `json:"items"`
	}
	if err := c.do(ctx, http.MethodGet, "/v1/"+kind.Plural(), q, nil, nil, &list); err != nil {
		return nil, 0, err
	}
	objs := make([]model.Object, 0, len(list.Items))
	for _, raw := range list.Items {
		o, err := decodeObject(kind, raw)
		if err != nil {
			return nil, 0, err
		}
		objs = append(objs, o)
	}
	return objs, list.Revision, nil
}

// Delete removes one object. A non-empty ifMatch is the resourceVersion the
// object must still have, so a delete never removes a newer edit.
func (c *Client) Delete(ctx context.Context, kind model.Kind, name string, dryRun bool, ifMatch string) (store.Result, error) {
	var res store.Result
	if err := kind.Validate(); err != nil {
		return res, err
	}
	h := http.Header{}
	if ifMatch != "" {
		h.Set("If-Match", strconv.Quote(ifMatch))
	}
	err := c.do(ctx, http.MethodDelete, objectPath(kind, name), dryRunQuery(dryRun), nil, h, &res)
	return res, err
}

// Status is the answer of GET /v1/status.
type Status struct {
	// Revision is the store revision.
	Revision uint64 `json:"revision"`
	// Mode is "api" or "directory" (local/declarative mode).
	Mode string `json:"mode"`
	// ReadOnly is why definitions cannot be written, or empty.
	ReadOnly string `json:"readOnly,omitempty"`
	// ConfigDir is the local-directory status in directory mode; kept raw
	// so this client does not depend on that package's shape.
	ConfigDir json.RawMessage `json:"configDir,omitempty"`
}

// Status reads the server's status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var s Status
	err := c.do(ctx, http.MethodGet, "/v1/status", nil, nil, nil, &s)
	return s, err
}

func objectPath(kind model.Kind, name string) string {
	return "/v1/" + kind.Plural() + "/" + url.PathEscape(name)
}

func dryRunQuery(dryRun bool) url.Values {
	if !dryRun {
		return nil
	}
	return url.Values{"dryRun": {"true"}}
}

// decodeObject decodes a server object strictly: a field this client does
// not know means the server is newer, and silently dropping it would make
// `get -o yaml | apply` lose data.
func decodeObject(kind model.Kind, raw []byte) (model.Object, error) {
	o := kind.New()
	if err := protojson.Unmarshal(raw, o); err != nil {
		return nil, fmt.Errorf("decode %s from the server: %w", kind, err)
	}
	return o, nil
}

// do sends one request and decodes a 2xx JSON answer into out, or returns
// an *APIError for any other status.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body []byte, h http.Header, out any) error {
	target := c.base.String() + path // path segments are already escaped
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return fmt.Errorf("build request %s %s: %w", method, path, err)
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/yaml")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the control plane at %s: %w", c.base, unwrapURLError(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("read answer to %s %s: %w", method, path, err)
	}
	if len(data) > maxResponseBytes {
		return fmt.Errorf("answer to %s %s is larger than %d bytes", method, path, maxResponseBytes)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeError(resp.StatusCode, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("answer to %s %s is not the expected JSON: %w", method, path, err)
	}
	return nil
}

// unwrapURLError drops *url.Error's "Get \"http://...\":" prefix, which
// repeats what the caller's message already says.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Nodes lists the connected proxies (GET /v1/nodes).
func (c *Client) Nodes(ctx context.Context) ([]xds.NodeStatus, error) {
	var body struct {
		Nodes []xds.NodeStatus `json:"nodes"`
	}
	err := c.do(ctx, http.MethodGet, "/v1/nodes", nil, nil, nil, &body)
	return body.Nodes, err
}

// ObjectStatus reads one definition's status.
func (c *Client) ObjectStatus(ctx context.Context, kind model.Kind, name string) (admin.ObjectStatus, error) {
	var s admin.ObjectStatus
	err := c.do(ctx, http.MethodGet, objectPath(kind, name)+"/status", nil, nil, nil, &s)
	return s, err
}
