package model

import (
	"fmt"
	"strings"
)

// The enumerated values of the model. Manifests spell them exactly as
// below (case matters): the translator switches on these constants, so a
// value is accepted only if the translator knows it.

// Gateway modes (GatewaySpec.mode).
const (
	GatewayModeIngress = "ingress"
	GatewayModeEgress  = "egress"
	GatewayModeSidecar = "sidecar"
	// GatewayModeProxyless serves gRPC clients that take their routing
	// straight from the control plane (grpc-go's xds:/// resolver): no
	// proxy; each API hostname becomes an API listener, and its
	// listeners (protocol GRPC only) the ports of xDS-enabled gRPC servers.
	GatewayModeProxyless = "proxyless"
)

// Listener protocols (Listener.protocol).
const (
	ListenerHTTP  = "HTTP"
	ListenerHTTPS = "HTTPS"
	ListenerTCP   = "TCP"
	// ListenerGRPC is an inbound port of an xDS-enabled grpc-go server
	// (xds.NewGRPCServer) on a proxyless gateway, and valid only there.
	ListenerGRPC = "GRPC"
)

// Client certificate modes (ClientValidation.mode).
const (
	ClientValidationNone     = "none"
	ClientValidationOptional = "optional"
	ClientValidationRequired = "required"
)

// TLS versions (minVersion); TLSv1_2 is the default.
const (
	TLSVersion12 = "TLSv1_2"
	TLSVersion13 = "TLSv1_3"
)

// Upstream protocols (ServiceSpec.protocol); HTTP1 is the default.
const (
	UpstreamHTTP1 = "HTTP1"
	UpstreamHTTP2 = "HTTP2"
	UpstreamGRPC  = "GRPC"
)

// DNS resolution of a hostname Service (ServiceSpec.dnsResolution); strict
// is the default.
const (
	DNSStrict  = "strict"
	DNSLogical = "logical"
)

// Load-balancing algorithms (ServiceSpec.loadBalancing); ROUND_ROBIN is the
// default.
const (
	LBRoundRobin   = "ROUND_ROBIN"
	LBLeastRequest = "LEAST_REQUEST"
	LBRandom       = "RANDOM"
	LBRingHash     = "RING_HASH"
	LBMaglev       = "MAGLEV"
)

// Health-check types (HealthCheck.type); HTTP is the default.
const (
	HealthCheckHTTP = "HTTP"
	HealthCheckTCP  = "TCP"
	HealthCheckGRPC = "GRPC"
)

// Rate-limit scopes (RateLimitPolicy.scope).
const (
	RateLimitLocal  = "local"
	RateLimitGlobal = "global"
)

// Rate-limit key types (RateLimitKey.type).
const (
	RateLimitKeyClientIP = "clientIP"
	RateLimitKeyHeader   = "header"
	RateLimitKeyConsumer = "consumer"
)

// Where an API key is carried (APIKeyPolicy.in); header is the default.
const (
	APIKeyInHeader = "header"
	APIKeyInQuery  = "query"
)

// DefaultAPIKeyName is the header or query parameter an apiKey policy reads
// when name is empty.
const DefaultAPIKeyName = "x-api-key"

var (
	gatewayModes      = enum{GatewayModeIngress, GatewayModeEgress, GatewayModeSidecar, GatewayModeProxyless}
	listenerProtocols = enum{ListenerHTTP, ListenerHTTPS, ListenerTCP, ListenerGRPC}
	clientModes       = enum{ClientValidationNone, ClientValidationOptional, ClientValidationRequired}
	tlsVersions       = enum{TLSVersion12, TLSVersion13}
	upstreamProtocols = enum{UpstreamHTTP1, UpstreamHTTP2, UpstreamGRPC}
	dnsResolutions    = enum{DNSStrict, DNSLogical}
	lbAlgorithms      = enum{LBRoundRobin, LBLeastRequest, LBRandom, LBRingHash, LBMaglev}
	healthCheckTypes  = enum{HealthCheckHTTP, HealthCheckTCP, HealthCheckGRPC}
	rateLimitScopes   = enum{RateLimitLocal, RateLimitGlobal}
	rateLimitKeys     = enum{RateLimitKeyClientIP, RateLimitKeyHeader, RateLimitKeyConsumer}
	apiKeyLocations   = enum{APIKeyInHeader, APIKeyInQuery}
	secretTypes       = enum{SecretTypeTLS, SecretTypeCA}
	targetKinds       = enum{string(KindGateway), string(KindAPI), string(KindService)}
	redirectSchemes   = enum{"http", "https"}
	httpMethods       = enum{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}

	// cipherSuites are the TLS 1.2 suites Envoy (BoringSSL) offers that
	// are forward secret and AEAD; older suites are not accepted.
	cipherSuites = enum{
		"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
		"ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
		"ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
	}

	// retryConditions are the Envoy retry-on values a route or retry
	// policy may use (x-envoy-retry-on and x-envoy-retry-grpc-on).
	retryConditions = enum{
		"5xx", "gateway-error", "reset", "connect-failure", "retriable-4xx",
		"refused-stream", "retriable-status-codes", "cancelled",
		"deadline-exceeded", "internal", "resource-exhausted", "unavailable",
	}
)

// enum is a closed set of accepted spellings, in the order messages list
// them.
type enum []string

func (s enum) has(v string) bool {
	for _, a := range s {
		if a == v {
			return true
		}
	}
	return false
}

func (s enum) String() string { return strings.Join(s, ", ") }

// check reports v at p unless it is one of s. An empty v is accepted
// unless required. A value differing only in case says which one was meant.
func (s enum) check(e *Errs, p Path, v string, required bool) bool {
	if v == "" {
		if required {
			e.Add(p, "required: one of %s", s)
		}
		return !required
	}
	if s.has(v) {
		return true
	}
	msg := fmt.Sprintf("must be one of %s, got %q", s, truncate(v))
	for _, a := range s {
		if strings.EqualFold(a, v) {
			msg += fmt.Sprintf("; did you mean %q?", a)
			break
		}
	}
	e.Add(p, "%s", msg)
	return false
}
