package admin

import (
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"tollgate.dev/tollgate/internal/audit"
	"tollgate.dev/tollgate/internal/model"
)

// attempt is what a handler learns for the audit record of its request:
// the objects a bundle touched are known only after it is decoded.
type attempt struct {
	actor   string
	objects []string
}

type attemptKey struct{}

// noteObjects adds "Kind/name" entries to the request's audit record.
func noteObjects(r *http.Request, objs ...string) {
	if at, ok := r.Context().Value(attemptKey{}).(*attempt); ok {
		at.objects = append(at.objects, objs...)
	}
}

// noteActor names the actor of a request that has no principal (the join
// flow), never with the credential itself.
func noteActor(r *http.Request, actor string) {
	if at, ok := r.Context().Value(attemptKey{}).(*attempt); ok {
		at.actor = actor
	}
}

// Caps on client-chosen strings in a record: unauthenticated attempts are
// audited too, and must not be able to write arbitrarily long lines.
const (
	maxAuditPath = 512
	maxAuditName = 253
)

// record writes the audit record of one write attempt. A failure to write
// it is logged and counted but does not change the answer: by now the
// write may be committed, and answering 500 for a committed write would
// invite a retry of something that already happened. The answer is still
// held until this returns (see instrument), so a client never sees an
// acknowledgement before the record is durable when the log is healthy;
// the failure counter is what to alert on.
func (s *Server) record(r *http.Request, rt route, op operation, p Principal, at *attempt, code int, reason Reason) {
	rec := audit.Record{
		Actor:   p.Name,
		Remote:  r.RemoteAddr,
		Method:  truncate(r.Method, 16),
		Path:    truncate(r.URL.Path, maxAuditPath),
		Query:   knownQuery(r.URL.Query(), op.query),
		Objects: at.objects,
		Status:  code,
		Outcome: audit.OutcomeOf(code),
		Reason:  string(reason),
	}
	if p.Role.valid() {
		rec.Role = p.Role.String()
	}
	if at.actor != "" {
		rec.Actor = at.actor
	}
	if len(rec.Objects) == 0 {
		rec.Objects = urlObjects(r, rt)
	}
	if slices.Contains(op.query, "dryRun") {
		rec.DryRun, _ = dryRunParam(r) // a bad value was rejected; it dry-ran nothing
	}
	if err := s.opts.Audit.Write(rec); err != nil {
		s.metrics.auditFailures.Inc()
		s.log.Error("audit record lost", slog.String("method", r.Method), slog.String("path", rec.Path),
			slog.Int("status", code), slog.Any("error", err))
	}
}

// urlObjects names the object a URL targets: /v1/{kind}/{name} and the
// gateway endpoints.
func urlObjects(r *http.Request, rt route) []string {
	name := r.PathValue("name")
	if name == "" {
		return nil
	}
	name = truncate(name, maxAuditName)
	if seg := r.PathValue("kind"); seg != "" {
		k, err := model.ParseKind(seg)
		if err != nil || k.Plural() != seg {
			return nil
		}
		return []string{string(k) + "/" + name}
	}
	switch rt.name {
	case "gatewayStatus", "gatewayConfig", "gatewayCertificates", "gatewayJoinTokens", "rotateIdentity":
		return []string{string(model.KindGateway) + "/" + name}
	}
	return nil
}

// knownQuery keeps only the parameters the operation understands, so a
// credential a client put in the query string never reaches the log.
func knownQuery(q url.Values, known []string) string {
	keep := url.Values{}
	for _, k := range known {
		if v, ok := q[k]; ok {
			keep[k] = v
		}
	}
	return truncate(keep.Encode(), maxAuditPath)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Audit tail bounds: enough for a look at recent activity; the file itself
// is the full record.
const (
	defaultAuditLimit = 100
	maxAuditLimit     = 1000
)

// auditTail handles GET /v1/audit.
func (s *Server) auditTail(w http.ResponseWriter, r *http.Request) error {
	if s.opts.Audit == nil || s.opts.Audit.Path() == "" {
		return newError(http.StatusNotFound, ReasonNotFound, "the control plane keeps no audit log file")
	}
	limit := defaultAuditLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxAuditLimit {
			return newError(http.StatusBadRequest, ReasonBadRequest, "limit must be a whole number between 1 and %d, got %q", maxAuditLimit, v)
		}
		limit = n
	}
	recs, err := audit.Tail(s.opts.Audit.Path(), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"records": recs})
	return nil
}
