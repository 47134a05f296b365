package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/store"
)

// Reason is the stable, machine-readable cause of an error answer.
type Reason string

// The reasons an admin answer can carry. They are part of the API: add new
// ones, never rename.
const (
	ReasonInvalid          Reason = "Invalid"
	ReasonBadRequest       Reason = "BadRequest"
	ReasonNotFound         Reason = "NotFound"
	ReasonConflict         Reason = "Conflict"
	ReasonStale            Reason = "StaleResourceVersion"
	ReasonReferenced       Reason = "Referenced"
	ReasonReadOnly         Reason = "ReadOnly"
	ReasonTooLarge         Reason = "TooLarge"
	ReasonUnsupportedMedia Reason = "UnsupportedMediaType"
	ReasonMethodNotAllowed Reason = "MethodNotAllowed"
	ReasonNotReady         Reason = "NotReady"
	ReasonInternal         Reason = "Internal"
	// ReasonUnauthenticated: no credentials or unrecognised ones (401).
	ReasonUnauthenticated Reason = "Unauthenticated"
	// ReasonForbidden: the principal's role is below the operation's (403).
	ReasonForbidden Reason = "Forbidden"
	// ReasonInvalidJoinToken: a join token that is unknown, expired or
	// spent; which one is not said (401).
	ReasonInvalidJoinToken Reason = "InvalidJoinToken"
	// ReasonNotImplemented: a feature this control plane runs without,
	// such as the built-in CA (501).
	ReasonNotImplemented Reason = "NotImplemented"
)

// ErrorBody is the JSON body of every error answer.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail describes one failed request.
type ErrorDetail struct {
	Code       int              `json:"code"`
	Reason     Reason           `json:"reason"`
	Message    string           `json:"message"`
	Violations model.Violations `json:"violations,omitempty"`
	Referrers  []store.Referrer `json:"referrers,omitempty"`
}

// apiError is an error that already knows its answer.
type apiError struct{ ErrorDetail }

func (e *apiError) Error() string { return e.Message }

func newError(code int, reason Reason, format string, args ...any) *apiError {
	return &apiError{ErrorDetail{Code: code, Reason: reason, Message: fmt.Sprintf(format, args...)}}
}

// toAPIError maps store and model errors to answers. Anything unknown is an
// internal error whose detail goes to the log, not to the client.
func toAPIError(err error) (*apiError, bool) {
	var (
		ae  *apiError
		vs  model.Violations
		ce  *store.ConflictError
		nfe *store.NotFoundError
	)
	switch {
	case errors.As(err, &ae):
		return ae, true
	case errors.As(err, &vs):
		e := newError(http.StatusBadRequest, ReasonInvalid, "%s", violationSummary(vs))
		e.Violations = vs
		return e, true
	case errors.As(err, &ce):
		reason := ReasonConflict
		switch ce.Reason {
		case store.ReasonStale:
			reason = ReasonStale
		case store.ReasonReferenced:
			reason = ReasonReferenced
		}
		e := newError(http.StatusConflict, reason, "%s", ce.Message)
		e.Referrers = ce.Referrers
		return e, true
	case errors.As(err, &nfe):
		return newError(http.StatusNotFound, ReasonNotFound, "%s not found", nfe.Key), true
	}
	return newError(http.StatusInternalServerError, ReasonInternal, "internal error; see the control plane log"), false
}

func violationSummary(vs model.Violations) string {
	if len(vs) == 1 {
		return "1 violation: " + vs[0].String()
	}
	return fmt.Sprintf("%d violations; first: %s", len(vs), vs[0].String())
}

// writeError answers err and returns its reason for the audit record.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) Reason {
	ae, known := toAPIError(err)
	if !known {
		s.log.Error("admin request failed", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("error", err))
	}
	if ae.Code == http.StatusMethodNotAllowed || ae.Code == http.StatusNotFound {
		w.Header().Set("Cache-Control", "no-store")
	}
	writeJSON(w, ae.Code, ErrorBody{Error: ae.ErrorDetail})
	return ae.Reason
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // the client went away; nothing useful to do
}
