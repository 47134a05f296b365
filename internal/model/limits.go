package model

import (
	"sort"
	"time"
)

// Limits on the size of one object. They keep a single definition from
// costing the translator or the proxies unbounded work; each is reported
// with its value when exceeded.
const (
	MaxLabels          = 64
	MaxAnnotationBytes = 64 * 1024
)

// Caps on list lengths. They are far above what a hand-written definition
// needs and low enough that one object cannot make a snapshot expensive.
const (
	// MaxListeners caps spec.listeners of a Gateway.
	MaxListeners = 64
	// MaxHostnames caps every hostname list (listener, API, serverNames).
	MaxHostnames = 100
	// MaxCertificates caps the certificates of one listener.
	MaxCertificates = 64
	// MaxSubjectAltNames caps every subjectAltNames list.
	MaxSubjectAltNames = 100
	// MaxAPIGateways caps spec.gateways of an API.
	MaxAPIGateways = 64
	// MaxRoutes caps the routes of one API.
	MaxRoutes = 1000
	// MaxEndpoints caps the static endpoints of one Service.
	MaxEndpoints = 10000
	// MaxBackends caps the backends of one route.
	MaxBackends = 64
	// MaxHeaderMatches caps the header matches of one route.
	MaxHeaderMatches = 32
	// MaxQueryParamMatches caps the query parameter matches of one route.
	MaxQueryParamMatches = 32
	// MaxRateLimits caps the limits of one rateLimit policy: each becomes a
	// descriptor Envoy evaluates on every request.
	MaxRateLimits = 8
	// MaxJWTProviders caps the providers of one jwt policy.
	MaxJWTProviders = 16
	// MaxAudiences caps the audiences of one JWT provider.
	MaxAudiences = 100
	// MaxClaimToHeaders caps the claimToHeaders of one JWT provider.
	MaxClaimToHeaders = 32
	// MaxAPIKeyConsumers caps the consumers of one apiKey policy.
	MaxAPIKeyConsumers = 10000
	// MaxBasicAuthUsers caps the users of one basicAuth policy.
	MaxBasicAuthUsers = 10000
	// MaxCIDRs caps the cidrs of one ipAllow or ipDeny policy.
	MaxCIDRs = 1000
	// MaxCORSEntries caps each list of a cors policy.
	MaxCORSEntries = 100
	// MaxHeaderEdits caps each add, set and remove list of a headers policy.
	MaxHeaderEdits = 32
)

// Caps on string lengths, in bytes.
const (
	// MaxHostnameLength is the DNS limit on a full name.
	MaxHostnameLength = 253
	// MaxPathLength caps paths and path prefixes.
	MaxPathLength = 1024
	// MaxHeaderNameLength caps header and query parameter names.
	MaxHeaderNameLength = 256
	// MaxHeaderValueLength caps header values and header match values.
	MaxHeaderValueLength = 4 * 1024
	// MaxDirectResponseBody caps a route's directResponse.body: Envoy holds
	// it in memory for every route that uses it.
	MaxDirectResponseBody = 4 * 1024
	// MaxPEMBytes caps each PEM field of a Secret.
	MaxPEMBytes = 64 * 1024
	// MaxJWKSBytes caps an inline JWKS document.
	MaxJWKSBytes = 64 * 1024
	// MaxURLLength caps URLs (jwksUri) and CORS origins.
	MaxURLLength = 2048
	// MaxTextLength caps other free-text values that reach the proxies:
	// subject alternative names, issuers, audiences, claims, localities.
	MaxTextLength = 1024
	// MinAPIKeyLength keeps API keys long enough not to be guessed.
	MinAPIKeyLength = 16
	// MaxAPIKeyLength caps an API key.
	MaxAPIKeyLength = 256
)

// Regex caps. RE2 guarantees linear-time matching but not a small program:
// `(a{100}){100}` is short and compiles to thousands of instructions that
// every request runs. We compile with Go's regexp/syntax (the same RE2
// syntax Envoy uses) and count instructions after Simplify. Envoy's own
// check counts RE2 C++ program size with a default error level of 100; the
// generated bootstrap must raise the runtime key
// re2.max_program_size.error_level above MaxRegexProgramSize (the two
// compilers count differently, so leave headroom: 4096).
const (
	// MaxRegexLength caps the source text of a regex.
	MaxRegexLength = 1024
	// MaxRegexProgramSize caps the instructions a regex compiles to.
	MaxRegexProgramSize = 1000
)

// Caps on numbers.
const (
	// MaxBackendWeight caps BackendRef.weight.
	MaxBackendWeight = 1_000_000
	// MaxEndpointWeight is Envoy's cap on a load-balancing weight.
	MaxEndpointWeight = 128
	// MaxCircuitBreakerThreshold caps each circuit-breaker threshold.
	MaxCircuitBreakerThreshold = 1_000_000
	// MaxRetryAttempts caps retries per request.
	MaxRetryAttempts = 10
	// MaxHealthThreshold caps health-check thresholds.
	MaxHealthThreshold = 100
	// MaxConsecutive5xx caps outlierDetection.consecutive5xx.
	MaxConsecutive5xx = 1000
	// MaxTrustedProxyHops caps the X-Forwarded-For hops an IP policy trusts.
	MaxTrustedProxyHops = 10
	// MaxRequestsPerWindow caps rateLimit and spikeControl request counts.
	MaxRequestsPerWindow = 1_000_000_000
)

// Caps on durations.
const (
	// MaxConnectTimeout caps a Service's connectTimeout.
	MaxConnectTimeout = 5 * time.Minute
	// MaxRequestTimeout caps request, per-try and health-check timeouts.
	MaxRequestTimeout = time.Hour
	// MaxIdleTimeout caps idle timeouts and probe intervals.
	MaxIdleTimeout = 24 * time.Hour
	// MinRateWindow is the shortest rateLimit window: shorter windows
	// make bursts indistinguishable from steady traffic.
	MinRateWindow = time.Second
	// MaxRateWindow is the longest rateLimit window (one day, the largest
	// unit of Envoy's rate-limit service).
	MaxRateWindow = 24 * time.Hour
	// MaxSpikeWindow caps a spikeControl window: smoothing is about bursts.
	MaxSpikeWindow = time.Hour
	// MaxCORSMaxAge caps cors.maxAge; browsers cap it lower still.
	MaxCORSMaxAge = 24 * time.Hour
)

// MaxStatusCodes caps lists of HTTP statuses (retry statusCodes, health
// check expectedStatuses).
const MaxStatusCodes = 32

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
