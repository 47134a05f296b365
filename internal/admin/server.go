package admin

import (
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"tollgate.dev/tollgate/internal/audit"
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
	// Auth finds the principal of every non-public request. Nil denies
	// every request except the public ones (fail closed): the insecure
	// development mode must pass AllowAnonymous explicitly.
	Auth Authenticator
	// Audit receives one record per write attempt (any method but GET and
	// HEAD); nil disables auditing, and saying so is the caller's job.
	Audit *audit.Log
	// CA, when set, serves the CA bundle, certificates and join tokens.
	CA CertificateAuthority
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
	// promhttp serves /metrics behind the route table's guard.
	promhttp http.Handler
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
	if s.opts.Auth == nil {
		s.opts.Auth = denyAll{}
	}
	s.metrics = newMetrics(opts.Registry, st)
	s.promhttp = promhttp.HandlerFor(opts.Registry, promhttp.HandlerOpts{})
	for _, rt := range s.routes() {
		s.mux.Handle(rt.pattern, s.instrument(rt))
	}
	// Unknown paths go through the same guard, so only an authenticated
	// caller learns that a path does not exist (no endpoint enumeration).
	s.mux.Handle("/", s.instrument(route{pattern: "/", name: "unknown"}))
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
	role    Role     // least role allowed to call it; rolePublic for none, zero means admin
	write   bool     // changes definitions: refused in read-only mode
	body    string   // request body schema name, "" when none
	reply   string   // 2xx body schema name
	query   []string // query parameters it understands
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
	body, err := s.readRaw(w, r)
	if err != nil {
		return nil, err
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, newError(http.StatusBadRequest, ReasonBadRequest, "the request body is empty; send one or more objects as YAML or JSON")
	}
	return body, nil
}

// readRaw reads a body of any type up to the cap.
func (s *Server) readRaw(w http.ResponseWriter, r *http.Request) ([]byte, error) {
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
