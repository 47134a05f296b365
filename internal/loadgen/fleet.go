package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	resourcev3 "github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"tollgate.dev/tollgate/internal/xdsclient"
)

// fleet is K simulated proxies, each driven by its own goroutine.
type fleet struct {
	proxies   []*proxy
	cur       atomic.Pointer[editMarker]
	obs       chan observation
	errc      chan error
	inconsist atomic.Int64
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// roleOf makes the last slow+nacking proxies slow, then NACKing; the first
// ones are normal, so that proxy ids say nothing about connect order.
func roleOf(i int, o Options) Role {
	switch {
	case i >= o.Proxies-o.NACKing:
		return NACKing
	case i >= o.Proxies-o.NACKing-o.Slow:
		return Slow
	}
	return Normal
}

// connect opens every proxy at once (a connect storm) and returns, per
// proxy, the time from the storm's start until it held the full
// configuration. The proxies keep running until close.
func connect(ctx context.Context, o Options, edits int) (*fleet, []time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	f := &fleet{
		obs:    make(chan observation, o.Proxies*(edits+1)),
		errc:   make(chan error, o.Proxies),
		cancel: cancel,
	}
	times := make([]time.Duration, o.Proxies)
	ready := make(chan error, o.Proxies)
	start := time.Now()
	for i := range o.Proxies {
		p := &proxy{
			id: i, role: roleOf(i, o), cur: &f.cur, obs: f.obs,
			slowDelay: o.SlowDelay, inconsist: &f.inconsist, edit: -1,
		}
		f.proxies = append(f.proxies, p)
		f.wg.Go(func() {
			err := p.connect(ctx, o, start, &times[i])
			ready <- err
			if err == nil {
				err = p.run(ctx)
			}
			if err != nil {
				f.errc <- err
			}
			if p.c != nil {
				_ = p.c.Close()
			}
		})
	}
	for range o.Proxies {
		if err := <-ready; err != nil {
			f.close()
			return nil, nil, err
		}
	}
	return f, times, nil
}

// connect dials, subscribes like a starting Envoy and waits for the full
// configuration, recording how long that took since the storm started.
func (p *proxy) connect(ctx context.Context, o Options, start time.Time, took *time.Duration) error {
	var opts xdsclient.Options
	opts.Delta = o.Delta
	opts.Intern = true // a thousand proxies of one gateway share what they hold
	if p.role == NACKing {
		opts.NACK = p.nack
	}
	c, err := xdsclient.Dial(ctx, o.XDSAddress, fmt.Sprintf("xdsload-%d", p.id), GatewayName, opts)
	if err != nil {
		return err
	}
	p.c = c
	if err := c.Start(); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, o.Wait)
	defer cancel()
	if err := c.WaitFor(wctx, func() bool { return hasFullConfig(c, o.APIs) }); err != nil {
		return fmt.Errorf("proxy %d: first full configuration: %w", p.id, err)
	}
	*took = time.Since(start)
	p.slowDown()
	return nil
}

// hasFullConfig is true once the client holds a listener, clusters and
// endpoints for every generated Service and routes that include the last
// generated API: the bundle is applied in one transaction, so the last API
// arrives with all the others.
func hasFullConfig(c *xdsclient.Client, apis int) bool {
	services := serviceCount(apis)
	if len(c.Has(resourcev3.ListenerType)) == 0 || len(c.Has(resourcev3.ClusterType)) < services ||
		len(c.Has(resourcev3.EndpointType)) < services {
		return false
	}
	last := []byte(Hostname(apis - 1))
	for _, n := range c.Has(resourcev3.RouteType) {
		if bytes.Contains(c.Resource(resourcev3.RouteType, n).GetValue(), last) {
			return true
		}
	}
	return false
}

// close stops every proxy and waits for their goroutines.
func (f *fleet) close() {
	f.cancel()
	f.wg.Wait()
}
