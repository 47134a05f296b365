package admin

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"
)

// instrument is the one path every request takes: authenticate, check the
// role, dispatch by method, enforce read-only mode, answer errors in the
// common shape, audit write attempts, and record metrics.
//
// The order is deliberate. Authentication comes first, so an
// unauthenticated caller gets 401 for every non-public path, known or not,
// and cannot enumerate endpoints. A method the route does not have is
// answered 405 only to an authenticated caller (any role) unless the route
// is public. The role check comes before the read-only check, so a viewer
// learns nothing about the mode from a write.
func (s *Server) instrument(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		op, known := lookup(rt, r.Method)
		audited := s.opts.Audit != nil && isWriteAttempt(r.Method)
		target := w
		var buf *bufferedResponse
		at := &attempt{}
		if audited {
			// The answer is held until the audit record is on disk: a
			// client must never see a write acknowledged that the audit
			// log could lose.
			buf = &bufferedResponse{w: w, code: http.StatusOK}
			target = buf
			r = r.WithContext(context.WithValue(r.Context(), attemptKey{}, at))
		}
		rec := &statusRecorder{ResponseWriter: target, code: http.StatusOK}
		p, err := s.authorize(rec, r, rt, op, known)
		if err == nil {
			err = s.dispatch(rec, r, rt, op, known)
		}
		var reason Reason
		if err != nil {
			reason = s.writeError(rec, r, err)
		}
		if audited {
			s.record(r, rt, op, p, at, rec.code, reason)
			buf.flush()
		}
		s.metrics.observe(rt.name, methodLabel(r.Method), rec.code, time.Since(start))
		if known && op.write {
			s.log.Info("admin write", slog.String("principal", p.Name), slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", rec.code), slog.Duration("took", time.Since(start)))
		}
	})
}

// lookup finds the operation for method; HEAD is served by GET.
func lookup(rt route, method string) (operation, bool) {
	op, ok := rt.methods[method]
	if !ok && method == http.MethodHead {
		op, ok = rt.methods[http.MethodGet]
	}
	return op, ok
}

// dispatch runs an authorised request.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, rt route, op operation, known bool) error {
	switch {
	case rt.methods == nil:
		return newError(http.StatusNotFound, ReasonNotFound, "no such endpoint %q; see /openapi.json", r.URL.Path)
	case !known:
		w.Header().Set("Allow", allowed(rt))
		return newError(http.StatusMethodNotAllowed, ReasonMethodNotAllowed, "method %s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, allowed(rt))
	case op.write && s.opts.ReadOnly != "":
		return newError(http.StatusConflict, ReasonReadOnly, "%s", s.opts.ReadOnly)
	}
	return op.handler(w, r)
}

// requiredRole is the least role the request needs. An unknown method
// needs only an authenticated caller (any role) unless every method of the
// route is public; an operation whose role was left unset is admin-only.
func requiredRole(rt route, op operation, known bool) Role {
	if !known {
		for _, o := range rt.methods {
			if o.role != rolePublic {
				return RoleViewer
			}
		}
		if len(rt.methods) == 0 {
			return RoleViewer
		}
		return rolePublic
	}
	if op.role == rolePublic || op.role.valid() {
		return op.role
	}
	return RoleAdmin
}

// authorize authenticates the caller of a non-public request and checks
// its role. Nothing here looks at RemoteAddr: localhost is no credential.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, rt route, op operation, known bool) (Principal, error) {
	need := requiredRole(rt, op, known)
	if need == rolePublic {
		return Principal{}, nil
	}
	p, err := s.opts.Auth.Authenticate(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tollgate"`)
		// One reason for missing and wrong credentials, so a client cannot
		// probe which tokens exist; the message only says which case it was.
		switch {
		case errors.Is(err, errNoAuthenticator):
			return Principal{}, newError(http.StatusUnauthorized, ReasonUnauthenticated,
				"the admin API runs without an authenticator and refuses every request except probes; configure admin tokens")
		case errors.Is(err, ErrNoCredentials):
			return Principal{}, newError(http.StatusUnauthorized, ReasonUnauthenticated, "no bearer token: send Authorization: Bearer <token>")
		}
		return Principal{}, newError(http.StatusUnauthorized, ReasonUnauthenticated, "token not recognised or expired")
	}
	if p.Role < need {
		return p, newError(http.StatusForbidden, ReasonForbidden, "%s %s needs role %s; %q has role %s", r.Method, r.URL.Path, need, p.Name, p.Role)
	}
	return p, nil
}

// isWriteAttempt reports whether a request is audited: every method but
// GET and HEAD, on any path, whether the route has that method or not. A
// POST to a read-only route (405) is someone trying to write, and
// auditing by method rather than by route means a mistake in the route
// table cannot hide an attempt.
func isWriteAttempt(method string) bool {
	return method != http.MethodGet && method != http.MethodHead
}

// methodLabel bounds the metrics' method label: clients choose the method
// token, so an arbitrary one must not mint a new series.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions:
		return m
	}
	return "other"
}

// bufferedResponse holds an answer until flush. Headers go straight to
// the real writer: nothing is sent before WriteHeader.
type bufferedResponse struct {
	w     http.ResponseWriter
	code  int
	wrote bool
	body  bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.w.Header() }

func (b *bufferedResponse) WriteHeader(code int) {
	if !b.wrote {
		b.code, b.wrote = code, true
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

func (b *bufferedResponse) flush() {
	b.w.WriteHeader(b.code)
	_, _ = b.w.Write(b.body.Bytes()) // the client went away; nothing useful to do
}
