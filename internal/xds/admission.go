package xds

import "time"

// DefaultMaxConcurrentSyncs bounds how many proxies are sent their first
// configuration at once (Options.MaxConcurrentSyncs).
const DefaultMaxConcurrentSyncs = 128

// Admission control for connect storms.
//
// A proxy's first configuration is the gateway's whole state: at 10,000
// APIs several MiB per proxy, marshalled into gRPC's send buffers. When a
// thousand proxies connect at once (a control plane restart, a fleet
// roll-out), serving them all at once would hold a thousand copies in
// flight and starve the proxies already running, whose edits must keep
// flowing. So at most maxSyncs streams are "syncing" (sent their first
// responses) at a time; the others wait in arrival order and are admitted
// as syncing streams finish. A stream that is already synced (every type
// it watches was sent at least once, or proven held on reconnect) never
// waits: edits and their small updates are not subject to admission.
//
// A slot is held until the stream has answered a response of every type it
// watches, or
// for syncSlotTimeout at most: a proxy that never answers must not keep
// others from being served. It is then served like any other stream; it
// only gives up its place.

// syncSlotTimeout is how long a syncing stream may hold its slot.
var syncSlotTimeout = 5 * time.Second

// admitted reports whether st may be sent its responses now, admitting it
// if a slot is free and queueing it otherwise. Callers hold mu.
func (c *cache) admitted(st *streamState) bool {
	if st.admitted || st.slotExpired || !st.needsSync() {
		return true
	}
	if len(c.syncing) < c.maxSyncs {
		st.admitted, st.queued = true, false
		st.admission++
		c.syncing[st.key] = struct{}{}
		key, n := st.key, st.admission
		time.AfterFunc(syncSlotTimeout, func() { c.expire(key, n) })
		return true
	}
	if !st.queued {
		st.queued = true
		c.waiting = append(c.waiting, st.key)
	}
	return false
}

// needsSync reports whether a type the stream watches was never sent.
func (st *streamState) needsSync() bool {
	for _, ts := range st.types {
		if ts.watched && !ts.synced {
			return true
		}
	}
	return false
}

// settled reports whether the stream has answered a response of every
// type it watches (or proved it holds it): its first configuration is
// through. Later edits do not keep it syncing.
func (st *streamState) settled() bool {
	for _, ts := range st.types {
		if ts.watched && !ts.everAnswered && !provenHolding(ts) {
			return false
		}
	}
	return true
}

// release frees st's slot once it has settled (or is gone) and admits the
// next waiting streams. Callers hold mu.
func (c *cache) release(st *streamState, gone bool) {
	if !st.admitted || !gone && !st.settled() {
		return
	}
	st.admitted = false
	delete(c.syncing, st.key)
	for len(c.syncing) < c.maxSyncs && len(c.waiting) > 0 {
		next := c.streams[c.waiting[0]]
		c.waiting = c.waiting[1:]
		if next == nil || !next.queued {
			continue // closed while waiting
		}
		next.queued = false
		c.deliver(next) // admits it
	}
}

// expiryLogEvery spaces out the warnings about expired admission slots.
const expiryLogEvery = 10 * time.Second

// expire takes back the slot of admission n of a stream that has not
// settled in time, and admits the next waiting streams.
func (c *cache) expire(key streamKey, n uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.streams[key]
	if st == nil || !st.admitted || st.admission != n {
		return
	}
	c.expired++
	if now := time.Now(); now.Sub(c.expiryLogAt) >= expiryLogEvery {
		c.log.Warn("xds: proxies took too long to answer their first configuration; their admission slots went to the next proxies",
			"node", st.nodeID, "gateway", st.gateway, "after", syncSlotTimeout, "proxies_since_last_warning", c.expired-c.expiredLogged)
		c.expiryLogAt, c.expiredLogged = now, c.expired
	}
	st.slotExpired = true
	c.release(st, true)
}
