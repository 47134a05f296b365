package loadgen

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// EditResult is what one one-API edit cost.
type EditResult struct {
	// Index is the edit's number; its marker is Marker(Index).
	Index int
	// ACKed is POST → every normal proxy has ACKed the response carrying
	// the edit (the ACK is sent before the proxy reports).
	ACKed time.Duration
	// AllSeen is POST → every proxy, slow and NACKing included, has
	// received the response carrying the edit.
	AllSeen time.Duration
	// Observed is how many proxies received it (all of them, or the run
	// fails).
	Observed int
	// CPU is the server's CPU time from before the POST until every proxy
	// had it.
	CPU time.Duration
	// Bytes are, per normal proxy, the resource bytes (proto.Size of each
	// resource carried) received from the POST up to the response carrying
	// the edit.
	Bytes []int64
}

// edit posts edit i and waits until every proxy has received it.
func (f *fleet) edit(ctx context.Context, hc *http.Client, o Options, i int) (EditResult, error) {
	res := EditResult{Index: i}
	f.cur.Store(newEditMarker(i))
	cpu0, err := o.Proc.CPU()
	if err != nil {
		return res, err
	}
	start := time.Now()
	if err := apply(ctx, hc, o.AdminURL, Edit(o.Seed, o.APIs, i)); err != nil {
		return res, fmt.Errorf("edit %d: %w", i, err)
	}
	timeout := time.NewTimer(o.Wait)
	defer timeout.Stop()
	for res.Observed < o.Proxies {
		select {
		case ob := <-f.obs:
			res.add(ob, start)
		case err := <-f.errc:
			return res, fmt.Errorf("edit %d: %w", i, err)
		case <-timeout.C:
			return res, fmt.Errorf("edit %d: %d of %d proxies received %q within %v", i, res.Observed, o.Proxies, Marker(i), o.Wait)
		case <-ctx.Done():
			return res, ctx.Err()
		}
	}
	cpu1, err := o.Proc.CPU()
	if err != nil {
		return res, err
	}
	res.CPU = cpu1 - cpu0
	return res, nil
}

func (r *EditResult) add(ob observation, start time.Time) {
	if ob.edit != r.Index {
		return // a late report of an earlier edit
	}
	r.Observed++
	d := ob.at.Sub(start)
	r.AllSeen = max(r.AllSeen, d)
	if ob.role == Normal {
		r.ACKed = max(r.ACKed, d)
		r.Bytes = append(r.Bytes, ob.bytes)
	}
}
