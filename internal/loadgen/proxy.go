package loadgen

import (
	"bytes"
	"context"
	"errors"
	"sync/atomic"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	"tollgate.dev/tollgate/internal/xdsclient"
)

// Role is how a simulated proxy answers.
type Role int

const (
	// Normal proxies ACK every response at once; edit latency is measured
	// on them.
	Normal Role = iota
	// Slow proxies hold every ACK for Options.SlowDelay, as an overloaded
	// Envoy would; they must not delay the others.
	Slow
	// NACKing proxies reject every route configuration that carries an
	// edit; they must not delay the others either.
	NACKing
)

// editMarker is the edit the proxies look for. The marker is matched as a
// protobuf string field (its length varint, then the text), so edit-1 is
// not found inside edit-12.
type editMarker struct {
	index int
	field []byte
}

func newEditMarker(i int) *editMarker {
	m := Marker(i)
	return &editMarker{index: i, field: append(protowire.AppendVarint(nil, uint64(len(m))), m...)}
}

// anyEdit is what every marker contains; hostnames and header names of
// the generated bundle do not.
var anyEdit = []byte("edit-")

// observation says that a proxy holds (or, NACKing, rejected) the response
// carrying an edit.
type observation struct {
	proxy int
	role  Role
	edit  int
	at    time.Time
	bytes int64 // resource bytes received since the edit was posted
}

// proxy drives one simulated proxy from one goroutine, as xdsclient
// requires. It accounts received bytes per edit and reports the first
// response carrying the current edit.
type proxy struct {
	id        int
	role      Role
	c         *xdsclient.Client
	cur       *atomic.Pointer[editMarker]
	obs       chan<- observation
	slowDelay time.Duration
	inconsist *atomic.Int64

	heldAt map[string]time.Time // slow: when each type's ACK was first held
	edit   int                  // the edit bytes and seen refer to
	bytes  int64
	seen   bool
}

// ackedTypes are the types whose ACKs a slow proxy holds.
var ackedTypes = []string{
	resourcev3.ClusterType, resourcev3.ListenerType, resourcev3.EndpointType,
	resourcev3.RouteType, resourcev3.SecretType,
}

// nack rejects route configurations carrying any edit, noting the current
// one as seen: the hook runs inside Next, on the proxy's goroutine.
func (p *proxy) nack(typeURL string, res map[string]*anypb.Any) string {
	if typeURL != resourcev3.RouteType {
		return ""
	}
	found := false
	for _, a := range res {
		if bytes.Contains(a.GetValue(), anyEdit) {
			found = true
		}
	}
	if !found {
		return ""
	}
	if e := p.sync(); e != nil && carries(res, nil, e) {
		p.see(e)
	}
	return "loadgen: this proxy rejects every edit"
}

// slowDown starts holding ACKs, once the proxy holds its first full
// configuration (the connect storm is measured without slow proxies).
func (p *proxy) slowDown() {
	if p.role != Slow {
		return
	}
	p.heldAt = map[string]time.Time{}
	for _, t := range ackedTypes {
		p.c.HoldACKs(t, true)
	}
}

// run handles responses until ctx ends.
func (p *proxy) run(ctx context.Context) error {
	for {
		r, err := p.next(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var ie *xdsclient.InconsistencyError
		switch {
		case errors.As(err, &ie):
			p.inconsist.Add(1)
		case errors.Is(err, context.DeadlineExceeded):
			// A slow proxy's wake-up to release ACKs that are due.
		case err != nil:
			return err
		}
		if r.TypeURL != "" {
			p.account(r)
		}
		if err := p.releaseDue(r.TypeURL); err != nil {
			return err
		}
	}
}

// next waits for a response; a slow proxy wakes up regularly to release
// the ACKs it holds.
func (p *proxy) next(ctx context.Context) (xdsclient.Response, error) {
	if p.role != Slow {
		return p.c.Next(ctx)
	}
	wctx, cancel := context.WithTimeout(ctx, max(p.slowDelay/4, time.Millisecond))
	defer cancel()
	return p.c.Next(wctx)
}

// releaseDue notes a newly held ACK of typeURL and sends those held for
// SlowDelay.
func (p *proxy) releaseDue(typeURL string) error {
	if p.heldAt == nil {
		return nil
	}
	if _, held := p.heldAt[typeURL]; !held && typeURL != "" {
		p.heldAt[typeURL] = time.Now()
	}
	for t, since := range p.heldAt {
		if time.Since(since) < p.slowDelay {
			continue
		}
		delete(p.heldAt, t)
		if err := p.c.Release(t); err != nil {
			return err
		}
	}
	return nil
}

// account adds the response's resource bytes to the current edit and
// reports the edit when the response carries it. The answer to the
// response was sent (or, slow, held) inside Next.
func (p *proxy) account(r xdsclient.Response) {
	e := p.sync()
	if e == nil {
		return
	}
	for _, n := range r.Names {
		if a := p.c.Resource(r.TypeURL, n); a != nil {
			p.bytes += int64(proto.Size(a))
		}
	}
	if !p.seen && r.TypeURL == resourcev3.RouteType && carries(nil, p.held(r.Names), e) {
		p.see(e)
	}
}

func (p *proxy) held(names []string) []*anypb.Any {
	out := make([]*anypb.Any, 0, len(names))
	for _, n := range names {
		out = append(out, p.c.Resource(resourcev3.RouteType, n))
	}
	return out
}

// sync returns the current edit, starting its accounting when it is new.
func (p *proxy) sync() *editMarker {
	e := p.cur.Load()
	if e != nil && e.index != p.edit {
		p.edit, p.bytes, p.seen = e.index, 0, false
	}
	return e
}

func (p *proxy) see(e *editMarker) {
	p.seen = true
	p.obs <- observation{proxy: p.id, role: p.role, edit: e.index, at: time.Now(), bytes: p.bytes}
}

// carries reports whether any of the route configurations holds the edit.
func carries(res map[string]*anypb.Any, list []*anypb.Any, e *editMarker) bool {
	for _, a := range res {
		if bytes.Contains(a.GetValue(), e.field) {
			return true
		}
	}
	for _, a := range list {
		if bytes.Contains(a.GetValue(), e.field) {
			return true
		}
	}
	return false
}
