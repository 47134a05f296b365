package xdsclient

import (
	"context"
	"errors"
	"testing"
	"time"
)

// DefaultWait bounds every wait of a TestClient on a condition; it is a
// deadline, not a timing assertion.
const DefaultWait = 20 * time.Second

// TestClient is a Client for tests: it reports every error through a
// testing.TB (fatal, except inconsistencies, which fail the test and let it
// go on so that it shows everything that went wrong). The Client's
// inspection methods are available on it directly.
type TestClient struct {
	*Client
	tb testing.TB
	// Wait bounds WaitFor and Next; DefaultWait unless changed.
	Wait time.Duration
}

// DialTest dials like Dial and closes the client when the test ends.
func DialTest(tb testing.TB, addr, nodeID, gateway string, opts Options) *TestClient {
	tb.Helper()
	c, err := Dial(context.Background(), addr, nodeID, gateway, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return &TestClient{Client: c, tb: tb, Wait: DefaultWait}
}

// Start subscribes like a starting Envoy (Client.Start).
func (c *TestClient) Start() {
	c.tb.Helper()
	if err := c.Client.Start(); err != nil {
		c.tb.Fatal(err)
	}
}

// Release sends the held answer for typeURL (Client.Release).
func (c *TestClient) Release(typeURL string) {
	c.tb.Helper()
	if err := c.Client.Release(typeURL); err != nil {
		c.tb.Fatal(err)
	}
}

// WaitFor handles responses until cond holds, failing the test if it does
// not within Wait; what names the condition in the failure.
func (c *TestClient) WaitFor(what string, cond func() bool) {
	c.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), c.Wait)
	defer cancel()
	for {
		err := c.Client.WaitFor(ctx, cond)
		if err == nil {
			return
		}
		if !c.report(err) {
			c.tb.Fatalf("%s: waiting up to %v for %s: %v; responses so far: %+v", c.NodeID(), c.Wait, what, err, c.log)
		}
	}
}

// Next handles and returns the next response.
func (c *TestClient) Next() Response {
	c.tb.Helper()
	n := len(c.log)
	c.WaitFor("a response", func() bool { return len(c.log) > n })
	return c.log[n]
}

// report fails the test for an inconsistency and reports whether err was
// one (the client can go on).
func (c *TestClient) report(err error) bool {
	c.tb.Helper()
	var ie *InconsistencyError
	if !errors.As(err, &ie) {
		return false
	}
	c.tb.Errorf("%v (log %+v)", err, c.log)
	return true
}

// Reconnect resumes the client's state on a new stream to addr
// (Client.Reconnect), closed when the test ends.
func (c *TestClient) Reconnect(addr string) *TestClient {
	c.tb.Helper()
	n, err := c.Client.Reconnect(context.Background(), addr)
	if err != nil {
		c.tb.Fatal(err)
	}
	c.tb.Cleanup(func() { _ = n.Close() })
	return &TestClient{Client: n, tb: c.tb, Wait: c.Wait}
}

// RouteWeights returns cluster → weight over the held routes
// (Client.RouteWeights).
func (c *TestClient) RouteWeights() map[string]uint32 {
	c.tb.Helper()
	w, err := c.Client.RouteWeights()
	if err != nil {
		c.tb.Fatal(err)
	}
	return w
}

// RouteClusters returns the clusters the held routes name
// (Client.RouteClusters).
func (c *TestClient) RouteClusters() []string {
	c.tb.Helper()
	cl, err := c.Client.RouteClusters()
	if err != nil {
		c.tb.Fatal(err)
	}
	return cl
}
