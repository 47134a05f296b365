package admin

import (
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"tollgate.dev/tollgate/internal/store"
	"tollgate.dev/tollgate/internal/translate"
)

// DefaultMaxBodyBytes caps a request body. Larger bodies get 413 before
// they are read whole, so a client cannot make the server buffer gigabytes.
const DefaultMaxBodyBytes = 1 << 20

// Options configure a Server.
type Options struct {
	// ReadOnly, when non-empty, makes definitions read-only (local mode);
	// writes get 409 with this text as the reason.
	ReadOnly string
	// Status, when set, adds its result to GET /v1/status as "configDir".
	Status func() any
	// Registry receives the admin and store metrics and is served at
	// /metrics. Nil uses a fresh registry.
	Registry *prometheus.Registry
	// Logger receives one line per write and every internal error.
	Logger *slog.Logger
	// Ready gates /readyz; nil means ready.
	Ready func() bool
	// MaxBodyBytes overrides DefaultMaxBodyBytes when positive.
	MaxBodyBytes int64
	// Fleet, when set, reports connected proxies (/v1/nodes, gateway and
	// object status).
	Fleet Fleet
	// Translation, when set, returns the configuration currently served
	// (definition status, /v1/gateways/{name}/config).
	Translation func() *translate.Output
}

// Server is the admin API. It implements http.Handler.
type Server struct {
	st      *store.Store
	opts    Options
	log     *slog.Logger
	mux     *http.ServeMux
	metrics *metrics
	maxBody int64
	openapi []byte
}

// New builds the admin API over st.
func New(st *store.Store, opts Options) *Server {
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{st: st, opts: opts, log: opts.Logger, mux: http.NewServeMux(), maxBody: DefaultMaxBodyBytes}
	if opts.MaxBodyBytes > 0 {
		s.maxBody = opts.MaxBodyBytes
	}
	s.metrics = newMetrics(opts.Registry, st)
	for _, rt := range s.routes() {
		s.mux.Handle(rt.pattern, s.instrument(rt))
	}
	s.mux.Handle("/metrics", promhttp.HandlerFor(opts.Registry, promhttp.HandlerOpts{}))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, newError(http.StatusNotFound, ReasonNotFound, "no such endpoint %q; see /openapi.json", r.URL.Path))
	})
	s.openapi = buildOpenAPI(s.routes())
	return s
}

// ServeHTTP answers one admin request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	// No Access-Control-* headers at all: browsers on other origins must not
	// be able to drive the admin API.
	s.mux.ServeHTTP(w, r)
}

// handlerFunc is an admin handler that returns its error instead of writing it.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// route is one path pattern and its handlers by method. The same table
// builds the mux and the OpenAPI document, so the two cannot disagree.
type route struct {
	pattern string
	name    string
	methods map[string]operation
}

// operation is one method of a route.
type operation struct {
	handler handlerFunc
	summary string
	write   bool     // changes definitions: refused in read-only mode
	body    string   // request body schema name, "" when none
	reply   string   // 2xx body schema name
	query   []string // query parameters it understands
}

func (s *Server) routes() []route {
	return []route{
		{pattern: "/v1/apply", name: "apply", methods: map[string]operation{
			http.MethodPost: {
				handler: s.apply, write: true, body: "Bundle", reply: "ApplyResult", query: []string{"dryRun"},
				summary: "Apply a bundle of one or many objects (YAML or JSON) atomically and idempotently.",
			},
		}},
		{pattern: "/v1/status", name: "status", methods: map[string]operation{
			http.MethodGet: {handler: s.status, reply: "Status", summary: "Store revision, mode and local-directory status."},
		}},
		{pattern: "/v1/{kind}", name: "collection", methods: map[string]operation{
			http.MethodGet: {
				handler: s.list, reply: "List", query: []string{"labelSelector"},
				summary: "List objects of a kind, optionally filtered by a label selector.",
			},
		}},
		{pattern: "/v1/{kind}/{name}", name: "object", methods: map[string]operation{
			http.MethodGet:    {handler: s.get, reply: "Object", summary: "Read one object (write-only fields omitted)."},
			http.MethodPut:    {handler: s.put, write: true, body: "Object", reply: "Object", query: []string{"dryRun"}, summary: "Create or replace one object."},
			http.MethodDelete: {handler: s.delete, write: true, reply: "ApplyResult", query: []string{"dryRun"}, summary: "Delete one object unless it is still referenced."},
		}},
		{pattern: "/v1/{kind}/{name}/status", name: "objectStatus", methods: map[string]operation{
			http.MethodGet: {
				handler: s.objectStatus, reply: "ObjectStatus",
				summary: "How translation judged a definition, how many proxies run it, and which proxies reject it (with Envoy's message).",
			},
		}},
		{pattern: "/v1/gateways/{name}/status", name: "gatewayStatus", methods: map[string]operation{
			http.MethodGet: {handler: s.gatewayStatus, reply: "GatewayStatus", summary: "A gateway's served versions and its connected proxies: sent, ACKed, NACKed."},
		}},
		{pattern: "/v1/gateways/{name}/config", name: "gatewayConfig", methods: map[string]operation{
			http.MethodGet: {handler: s.gatewayConfig, reply: "GatewayConfig", summary: "The Envoy resources served to a gateway, like a config dump (key material redacted)."},
		}},
		{pattern: "/v1/nodes", name: "nodes", methods: map[string]operation{
			http.MethodGet: {handler: s.nodes, reply: "Nodes", summary: "Every connected proxy: node id, gateway, versions sent and ACKed, last NACK."},
		}},
		{pattern: "/healthz", name: "healthz", methods: map[string]operation{
			http.MethodGet: {handler: s.healthz, reply: "Health", summary: "Liveness: the process serves requests."},
		}},
		{pattern: "/readyz", name: "readyz", methods: map[string]operation{
			http.MethodGet: {handler: s.readyz, reply: "Health", summary: "Readiness: the store is loaded."},
		}},
		{pattern: "/openapi.json", name: "openapi", methods: map[string]operation{
			http.MethodGet: {handler: s.openAPI, reply: "OpenAPI", summary: "This document."},
		}},
	}
}

// instrument dispatches by method, enforces read-only mode, answers errors
// in the common shape, and records metrics and a log line per write.
func (s *Server) instrument(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
		op, ok := rt.methods[r.Method]
		if !ok && r.Method == http.MethodHead {
			op, ok = rt.methods[http.MethodGet]
		}
		var err error
		switch {
		case !ok:
			rec.Header().Set("Allow", allowed(rt))
			err = newError(http.StatusMethodNotAllowed, ReasonMethodNotAllowed, "method %s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, allowed(rt))
		case op.write && s.opts.ReadOnly != "":
			err = newError(http.StatusConflict, ReasonReadOnly, "%s", s.opts.ReadOnly)
		default:
			err = op.handler(rec, r)
		}
		if err != nil {
			s.writeError(rec, r, err)
		}
		s.metrics.observe(rt.name, r.Method, rec.code, time.Since(start))
		if ok && op.write {
			s.log.Info("admin write", slog.String("method", r.Method), slog.String("path", r.URL.Path),
				slog.Int("status", rec.code), slog.Duration("took", time.Since(start)))
		}
	})
}

func allowed(rt route) string {
	var ms []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		if _, ok := rt.methods[m]; ok {
			ms = append(ms, m)
		}
	}
	return strings.Join(ms, ", ")
}

// readBody reads a bounded request body. A declared length over the cap is
// refused before reading anything; an undeclared one is cut at the cap.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	// Only JSON and YAML media types are accepted, and the header is
	// required: a browser may send text/plain, form or untyped bodies
	// cross-origin without a CORS preflight, so accepting them would let any
	// web page write definitions to an admin API on localhost.
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !acceptedMedia[mt] {
		if ct == "" {
			ct = "none"
		}
		return nil, newError(http.StatusUnsupportedMediaType, ReasonUnsupportedMedia,
			"content type %q is not accepted; send Content-Type: application/yaml or application/json", ct)
	}
	if enc := r.Header.Get("Content-Encoding"); enc != "" && enc != "identity" {
		return nil, newError(http.StatusUnsupportedMediaType, ReasonUnsupportedMedia, "content encoding %q is not accepted; send the body uncompressed", enc)
	}
	if r.ContentLength > s.maxBody {
		return nil, s.tooLarge(r.ContentLength)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBody))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, s.tooLarge(-1)
	}
	if err != nil {
		return nil, newError(http.StatusBadRequest, ReasonBadRequest, "reading the request body: %v", err)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, newError(http.StatusBadRequest, ReasonBadRequest, "the request body is empty; send one or more objects as YAML or JSON")
	}
	return body, nil
}

func (s *Server) tooLarge(n int64) error {
	if n > 0 {
		return newError(http.StatusRequestEntityTooLarge, ReasonTooLarge, "request body is %d bytes; the limit is %d: split the bundle", n, s.maxBody)
	}
	return newError(http.StatusRequestEntityTooLarge, ReasonTooLarge, "request body exceeds the limit of %d bytes: split the bundle", s.maxBody)
}

// acceptedMedia are the body types writes accept; none of them is a
// CORS-safelisted type.
var acceptedMedia = map[string]bool{
	"application/json": true, "application/yaml": true, "application/x-yaml": true,
	"text/yaml": true, "text/x-yaml": true,
}

// statusRecorder remembers the status code for metrics.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.code = code
	s.ResponseWriter.WriteHeader(code)
}
