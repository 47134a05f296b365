package ir

// RouteConfig is one RDS route configuration.
type RouteConfig struct {
	// Name is the RDS resource name.
	Name string
	// VirtualHosts are sorted by name; each domain appears in one only.
	VirtualHosts []VirtualHost
	// Sources are the APIs whose routes it holds.
	Sources []Source
}

// VirtualHost groups the routes of every API serving one domain.
type VirtualHost struct {
	// Name is unique within the route configuration.
	Name string
	// Domains are the Host values it serves ("*" for any).
	Domains []string
	// Routes are in match order, most specific first (see translate).
	Routes []Route
}

// PathKind is how a route matches the path.
type PathKind string

// The path match kinds.
const (
	PathExact  PathKind = "exact"
	PathPrefix PathKind = "prefix"
	PathRegex  PathKind = "regex"
)

// Match is what a request must carry to take a route.
type Match struct {
	// PathKind selects how Path is compared.
	PathKind PathKind
	// Path is the full path (basePath joined) or a regex over it.
	Path string
	// Methods, when set, restrict the :method; sorted.
	Methods []string
	// Headers must all match; sorted by name.
	Headers []HeaderMatch
	// QueryParams must all match; sorted by name.
	QueryParams []QueryMatch
}

// HeaderMatch is one header condition; exactly one of Exact, Prefix, Regex
// and Present is set.
type HeaderMatch struct {
	// Name is the lower-case header name.
	Name string
	// Exact is the whole value.
	Exact string
	// Prefix is a value prefix.
	Prefix string
	// Regex is an RE2 regex over the whole value.
	Regex string
	// Present matches any value.
	Present bool
	// Invert negates the match.
	Invert bool
}

// QueryMatch is one query parameter condition; exactly one of Exact, Regex
// and Present is set.
type QueryMatch struct {
	// Name is the parameter name.
	Name string
	// Exact is the whole value.
	Exact string
	// Regex is an RE2 regex over the whole value.
	Regex string
	// Present matches any value.
	Present bool
}

// Route is one route of a virtual host. Exactly one of Backends, Redirect
// and DirectResponse is set.
type Route struct {
	// Name is unique within the route configuration ("<api>/<route>").
	Name string
	// Source is the API the route belongs to.
	Source Source
	// Match selects requests.
	Match Match
	// Backends are the weighted clusters, sorted by cluster name.
	Backends []Backend
	// PrefixRewrite replaces the matched prefix.
	PrefixRewrite string
	// RegexRewrite rewrites the path by regex.
	RegexRewrite *RegexRewrite
	// HostRewrite replaces the Host header.
	HostRewrite string
	// Timeout is the route timeout; nil means Envoy's default.
	Timeout *Duration
	// Retry is the retry policy; nil means no retries.
	Retry *Retry
	// Redirect answers with a redirect.
	Redirect *Redirect
	// DirectResponse answers directly.
	DirectResponse *DirectResponse
}

// Backend is one weighted cluster of a route.
type Backend struct {
	// Cluster is the cluster name.
	Cluster string
	// Weight is at least 1.
	Weight uint32
}

// RegexRewrite is a path rewrite by regex.
type RegexRewrite struct {
	// Pattern is an RE2 regex.
	Pattern string
	// Substitution may reference capture groups.
	Substitution string
}

// Retry is a route's retry policy, defaults applied.
type Retry struct {
	// Attempts is the number of retries, at least 1.
	Attempts uint32
	// Conditions are Envoy retry-on values, sorted.
	Conditions []string
	// PerTryTimeout is zero when unset.
	PerTryTimeout Duration
	// StatusCodes are retried with retriable-status-codes.
	StatusCodes []uint32
}

// Redirect answers a route with an HTTP redirect.
type Redirect struct {
	// Scheme replaces the scheme ("" keeps it).
	Scheme string
	// Host replaces the host ("" keeps it).
	Host string
	// Port replaces the port (0 keeps it).
	Port uint32
	// Path replaces the path and possibly the query ("" keeps it).
	Path string
	// StatusCode is 301, 302, 303, 307 or 308.
	StatusCode uint32
}

// DirectResponse answers a route without an upstream.
type DirectResponse struct {
	// Status is the HTTP status.
	Status uint32
	// Body is the inline body, possibly empty.
	Body string
}
