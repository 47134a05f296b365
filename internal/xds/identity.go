package xds

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
)

// Identity says which gateway a stream's credentials entitle it to. The
// proxy still names its gateway in node.cluster (that is how every xDS
// client works); the identity decides whether it may.
type Identity func(ctx context.Context) (gateway string, err error)

// CertificateIdentity is the Identity of a TLS stream: gatewayOf applied
// to the client certificate the TLS handshake verified. A stream without
// one (plaintext, or TLS without a client certificate) has no identity.
func CertificateIdentity(gatewayOf func(*x509.Certificate) (string, error)) Identity {
	return func(ctx context.Context) (string, error) {
		p, ok := peer.FromContext(ctx)
		if !ok {
			return "", errors.New("no peer information on the stream")
		}
		info, ok := p.AuthInfo.(credentials.TLSInfo)
		if !ok {
			return "", errors.New("the connection is not TLS; the xDS server requires a client certificate")
		}
		chains := info.State.VerifiedChains
		if len(chains) == 0 || len(chains[0]) == 0 {
			return "", errors.New("no verified client certificate; present the certificate the control plane's CA issued for the gateway")
		}
		return gatewayOf(chains[0][0])
	}
}

// IdentityInterceptor enforces that a proxy only ever claims the gateway
// its identity names. Because every resource and secret the cache serves
// is scoped by node.cluster, this is what keeps one gateway's credential
// from reading another gateway's configuration or secrets.
//
// A stream without an identity is refused with Unauthenticated before its
// first request is read; a request whose node.cluster names another
// gateway ends the stream with PermissionDenied, and that request never
// reaches the xDS server, so nothing is sent for it. Every request that
// carries a node is checked, not only the first, since SotW clients may
// repeat the node on every request.
//
// refused, when set, is called with the status code of every refusal (a
// metric).
func IdentityInterceptor(id Identity, log *slog.Logger, refused func(codes.Code)) grpc.StreamServerInterceptor {
	if refused == nil {
		refused = func(codes.Code) {}
	}
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		gateway, err := id(ss.Context())
		if err != nil {
			log.Warn("xDS stream refused: no valid identity", slog.String("method", info.FullMethod), slog.Any("error", err))
			refused(codes.Unauthenticated)
			return status.Errorf(codes.Unauthenticated, "xDS stream refused: %v", err)
		}
		ctx, cancel := context.WithCancel(ss.Context())
		defer cancel()
		w := &identityStream{ServerStream: ss, ctx: ctx, cancel: cancel, gateway: gateway}
		herr := handler(srv, w)
		if v := w.violation(); v != nil {
			log.Warn("xDS stream refused: identity does not match the claimed gateway",
				slog.String("identity_gateway", gateway), slog.Any("error", v))
			refused(status.Code(v))
			return v
		}
		return herr
	}
}

// identityStream checks every received request against gateway.
type identityStream struct {
	grpc.ServerStream
	ctx     context.Context
	cancel  context.CancelFunc
	gateway string

	mu     sync.Mutex
	seen   bool // a request with a node has been accepted
	reason error
}

// Context is cancelled on a violation, so the xDS server's stream loop
// ends at once.
func (s *identityStream) Context() context.Context { return s.ctx }

// RecvMsg passes a request on only if its node, when present, claims the
// stream's own gateway.
func (s *identityStream) RecvMsg(m any) error {
	if err := s.ServerStream.RecvMsg(m); err != nil {
		return err
	}
	var node *corev3.Node
	switch r := m.(type) {
	case *discoveryv3.DiscoveryRequest:
		node = r.GetNode()
	case *discoveryv3.DeltaDiscoveryRequest:
		node = r.GetNode()
	}
	if err := s.check(node); err != nil {
		s.cancel()
		return err
	}
	return nil
}

func (s *identityStream) check(node *corev3.Node) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.reason != nil:
		return s.reason
	case node == nil && !s.seen:
		s.reason = status.Error(codes.InvalidArgument,
			"xDS stream refused: the first request must carry node, with node.cluster naming the gateway")
	case node == nil:
		return nil
	case node.GetCluster() != s.gateway:
		s.reason = status.Error(codes.PermissionDenied, fmt.Sprintf(
			"xDS stream refused: node %q claims gateway %q (node.cluster) but its certificate is gateway %q's; "+
				"use the certificate issued for gateway %q or set node.cluster to %q",
			node.GetId(), node.GetCluster(), s.gateway, node.GetCluster(), s.gateway))
	default:
		s.seen = true
		return nil
	}
	return s.reason
}

func (s *identityStream) violation() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reason
}
