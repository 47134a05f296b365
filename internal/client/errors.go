package client

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"tollgate.dev/tollgate/internal/model"
)

// Referrer is an object that still references the one a write would remove
// or change, as the server reports it in a Referenced conflict.
type Referrer struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
	Path string `json:"path,omitempty"`
}

// APIError is an error answer of the admin API. Reason is the stable,
// machine-readable cause ("Invalid", "Conflict", "ReadOnly", ...); callers
// branch on it, never on Message.
type APIError struct {
	Code       int              `json:"code"`
	Reason     string           `json:"reason"`
	Message    string           `json:"message"`
	Violations model.Violations `json:"violations,omitempty"`
	Referrers  []Referrer       `json:"referrers,omitempty"`
}

// Error prints the message, then one line per violation ("object: path:
// message") and per referrer, so a user sees every problem at once.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	for _, v := range e.Violations {
		b.WriteString("\n  ")
		b.WriteString(violationLine(v))
	}
	for _, r := range e.Referrers {
		fmt.Fprintf(&b, "\n  referenced by %s/%s", r.Kind, r.Name)
		if r.Path != "" {
			fmt.Fprintf(&b, " at %s", r.Path)
		}
	}
	return b.String()
}

// violationLine renders "object: path: message", falling back to the
// document number when the object could not be named.
func violationLine(v model.Violation) string {
	parts := make([]string, 0, 3)
	switch {
	case v.Object != "":
		parts = append(parts, v.Object)
	case v.Document > 0:
		parts = append(parts, fmt.Sprintf("document %d", v.Document))
	}
	if v.Path != "" {
		parts = append(parts, v.Path)
	}
	parts = append(parts, v.Message)
	return strings.Join(parts, ": ")
}

// maxErrorBody caps how much of a non-JSON error answer is quoted, e.g. the
// HTML page of a proxy standing in front of the control plane.
const maxErrorBody = 512

// decodeError builds the APIError for a non-2xx answer. A body that is not
// the documented error shape (a proxy, another service on the port) still
// gives an error naming the status and the start of the body.
func decodeError(code int, body []byte) *APIError {
	var wire struct {
		Error *APIError `json:"error"`
	}
	if err := json.Unmarshal(body, &wire); err == nil && wire.Error != nil && wire.Error.Message != "" {
		if wire.Error.Code == 0 {
			wire.Error.Code = code
		}
		return wire.Error
	}
	text := strings.TrimSpace(string(body))
	if len(text) > maxErrorBody {
		text = text[:maxErrorBody] + "…"
	}
	msg := fmt.Sprintf("the server answered %d %s", code, http.StatusText(code))
	if text != "" {
		msg += ": " + strings.ToValidUTF8(text, "?")
	}
	return &APIError{Code: code, Reason: http.StatusText(code), Message: msg}
}
