package xdsclient

import (
	"bytes"
	"hash/maphash"
	"sync"

	"google.golang.org/protobuf/types/known/anypb"
)

// interned shares identical resources between the clients of a process
// that set Options.Intern. A load test holds a thousand simulated proxies
// of one gateway in one process, each receiving the same several MiB of
// resources; sharing them is what lets 1,000 proxies × 10,000 APIs fit in
// memory. Resources are never mutated after decoding, so sharing is safe;
// entries are never freed (the process is a test harness and every version
// is small next to the fleet it saves).
var interned = struct {
	mu   sync.Mutex
	seed maphash.Seed
	m    map[uint64][]*anypb.Any
}{seed: maphash.MakeSeed(), m: map[uint64][]*anypb.Any{}}

// intern returns the shared resource equal to a, registering a if new.
func intern(a *anypb.Any) *anypb.Any {
	if a == nil {
		return nil
	}
	var h maphash.Hash
	h.SetSeed(interned.seed)
	_, _ = h.WriteString(a.GetTypeUrl())
	_, _ = h.Write(a.GetValue())
	k := h.Sum64()
	interned.mu.Lock()
	defer interned.mu.Unlock()
	for _, o := range interned.m[k] {
		if o.GetTypeUrl() == a.GetTypeUrl() && bytes.Equal(o.GetValue(), a.GetValue()) {
			return o
		}
	}
	interned.m[k] = append(interned.m[k], a)
	return a
}
