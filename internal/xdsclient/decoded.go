package xdsclient

import (
	"bytes"

	"google.golang.org/protobuf/types/known/anypb"
)

// decodeCache keeps, per held resource name, what was derived from the
// resource (the clusters a route configuration names, the RDS and SDS
// names a listener or cluster references) together with the Any it was
// derived from. Check and follow run after every response and look at
// every held resource; without the cache they would unmarshal all of them
// each time, which made the simulated proxies cost more CPU than the
// server they measure. With it only new or changed resources are decoded.
type decodeCache[T any] map[string]decoded[T]

type decoded[T any] struct {
	a *anypb.Any
	v T
}

// get returns what decode derives from a, held under name, decoding only
// when the cache has nothing for this content. A hit is the same Any (the
// resource was not resent) or an Any with the same type and bytes (resent
// unchanged, as State of the World does). Errors are not cached.
func (m decodeCache[T]) get(name string, a *anypb.Any, decode func(*anypb.Any) (T, error)) (T, error) {
	if v, ok := m.lookup(name, a); ok {
		return v, nil
	}
	v, err := decode(a)
	if err != nil {
		return v, err
	}
	m[name] = decoded[T]{a: a, v: v}
	return v, nil
}

// lookup is get without decoding or changing the cache, for the
// inspection methods (they may be called while nothing drives the client).
func (m decodeCache[T]) lookup(name string, a *anypb.Any) (T, bool) {
	e, ok := m[name]
	if ok && (e.a == a || e.a.GetTypeUrl() == a.GetTypeUrl() && bytes.Equal(e.a.GetValue(), a.GetValue())) {
		return e.v, true
	}
	var zero T
	return zero, false
}

// prune forgets what is no longer held. Stale entries are harmless (a
// lookup compares the content), so pruning only bounds memory; after every
// held name was looked up, the cache is larger than held exactly when
// something is stale, so the common case costs nothing.
func (m decodeCache[T]) prune(held map[string]*anypb.Any) {
	if len(m) <= len(held) {
		return
	}
	for name := range m {
		if _, ok := held[name]; !ok {
			delete(m, name)
		}
	}
}
