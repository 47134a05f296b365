package model

import (
	"strings"
	"time"

	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// target is what a policy attaches to, as the body × target matrix sees it.
type target uint8

const (
	targetGateway target = 1 << iota
	targetAPI
	targetRoute
	targetService
)

// String renders a set of targets as "a Gateway, an API or a route".
func (t target) String() string {
	var names []string
	for _, c := range []struct {
		t    target
		name string
	}{{targetGateway, "a Gateway"}, {targetAPI, "an API"}, {targetRoute, "a route of an API"}, {targetService, "a Service"}} {
		if t&c.t != 0 {
			names = append(names, c.name)
		}
	}
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// policyBody is one body field of a PolicySpec: its manifest name, whether
// it is set, what it may target, and its validator.
type policyBody struct {
	name     string
	set      bool
	targets  target
	validate func(e *Errs, p Path)
}

// policyBodies lists every body in manifest order; it is the one place the
// body × target matrix lives (docs/model.md shows it as a table).
func policyBodies(s *tollgatev1.PolicySpec) []policyBody {
	const (
		http = targetGateway | targetAPI | targetRoute
		api  = targetAPI | targetRoute
	)
	return []policyBody{
		{"rateLimit", s.GetRateLimit() != nil, http | targetService, func(e *Errs, p Path) { validateRateLimit(e, p, s.GetRateLimit()) }},
		{"jwt", s.GetJwt() != nil, http, func(e *Errs, p Path) { validateJWT(e, p, s.GetJwt()) }},
		{"apiKey", s.GetApiKey() != nil, http, func(e *Errs, p Path) { validateAPIKey(e, p, s.GetApiKey()) }},
		{"basicAuth", s.GetBasicAuth() != nil, http, func(e *Errs, p Path) { validateBasicAuth(e, p, s.GetBasicAuth()) }},
		{"ipAllow", s.GetIpAllow() != nil, http, func(e *Errs, p Path) { validateIPPolicy(e, p, s.GetIpAllow()) }},
		{"ipDeny", s.GetIpDeny() != nil, http, func(e *Errs, p Path) { validateIPPolicy(e, p, s.GetIpDeny()) }},
		{"cors", s.GetCors() != nil, http, func(e *Errs, p Path) { validateCORS(e, p, s.GetCors()) }},
		{"headers", s.GetHeaders() != nil, http, func(e *Errs, p Path) { validateHeadersPolicy(e, p, s.GetHeaders()) }},
		{"timeout", s.GetTimeout() != nil, http, func(e *Errs, p Path) { validateTimeoutPolicy(e, p, s.GetTimeout()) }},
		{"retry", s.GetRetry() != nil, api, func(e *Errs, p Path) { validateRetry(e, p, s.GetRetry(), 0, false) }},
		{"circuitBreaker", s.GetCircuitBreaker() != nil, targetService, func(e *Errs, p Path) { validateCircuitBreakerPolicy(e, p, s.GetCircuitBreaker()) }},
		{"spikeControl", s.GetSpikeControl() != nil, api | targetService, func(e *Errs, p Path) { validateSpikeControl(e, p, s.GetSpikeControl()) }},
	}
}

// validatePolicy checks the target, that exactly one body is set, that the
// body may attach to that target, and the body itself.
func validatePolicy(e *Errs, s *tollgatev1.PolicySpec) {
	if s == nil {
		return
	}
	p := Path("spec")
	tgt, tgtOK := validateTargetRef(e, p.Field("targetRef"), s.GetTargetRef())
	bodies := policyBodies(s)
	var set, all []string
	for _, b := range bodies {
		all = append(all, b.name)
		if !b.set {
			continue
		}
		set = append(set, b.name)
		if tgtOK && b.targets&tgt == 0 {
			e.Add(targetPath(p, tgt), "a %s policy cannot target %s; it applies to %s", b.name, tgt, b.targets)
		}
		b.validate(e, p.Field(b.name))
	}
	switch {
	case len(set) == 0:
		e.Add(p, "exactly one policy body must be set: one of %s", strings.Join(all, ", "))
	case len(set) > 1:
		e.Add(p, "exactly one policy body must be set, got %s; split them into separate policies", joinAnd(set))
	}
}

// targetPath is the field to blame when a body cannot attach to tgt.
func targetPath(p Path, tgt target) Path {
	if tgt == targetRoute {
		return p.Field("targetRef.route")
	}
	return p.Field("targetRef.kind")
}

// validateTargetRef checks a policy's target and classifies it. ok is
// false when the kind is unknown, so the matrix cannot be checked.
func validateTargetRef(e *Errs, p Path, t *tollgatev1.TargetRef) (tgt target, ok bool) {
	if t == nil {
		e.Add(p, "required: the Gateway, API (optionally one route) or Service this policy applies to")
		return 0, false
	}
	ok = targetKinds.check(e, p.Field("kind"), t.GetKind(), true)
	checkRef(e, p.Field("name"), t.GetName())
	if t.GetRoute() != "" {
		checkRef(e, p.Field("route"), t.GetRoute())
		if ok && t.GetKind() != string(KindAPI) {
			e.Add(p.Field("route"), "only applies with kind API; remove it")
			return 0, false
		}
	}
	switch Kind(t.GetKind()) {
	case KindGateway:
		return targetGateway, ok
	case KindService:
		return targetService, ok
	case KindAPI:
		if t.GetRoute() != "" {
			return targetRoute, ok
		}
		return targetAPI, ok
	}
	return 0, false
}

// globalWindows are the windows Envoy's rate-limit service can count in:
// its units are second, minute, hour and day.
var globalWindows = map[time.Duration]bool{time.Second: true, time.Minute: true, time.Hour: true, 24 * time.Hour: true}

// validateRateLimit checks a rate-limit policy.
func validateRateLimit(e *Errs, p Path, r *tollgatev1.RateLimitPolicy) {
	rateLimitScopes.check(e, p.Field("scope"), r.GetScope(), true)
	lp := p.Field("limits")
	limits := r.GetLimits()
	if checkRequired(e, lp, len(limits), "limit") && checkCount(e, lp, len(limits), MaxRateLimits, "limits") {
		windows := map[time.Duration]Path{}
		for i, l := range limits {
			ip := lp.Index(i)
			checkRequests(e, ip.Field("requests"), l.GetRequests())
			wp := ip.Field("window")
			if l.GetWindow() == "" {
				e.Add(wp, "required: a duration between %s and %s", fmtDuration(MinRateWindow), fmtDuration(MaxRateWindow))
				continue
			}
			w, ok := checkDuration(e, wp, l.GetWindow(), span{min: MinRateWindow, max: MaxRateWindow})
			if !ok {
				continue
			}
			if r.GetScope() == RateLimitGlobal && !globalWindows[w] {
				e.Add(wp, "with scope global must be one of 1s, 1m, 1h, 24h (the rate-limit service's units), got %q", truncate(l.GetWindow()))
			}
			if first, dup := windows[w]; dup {
				e.Add(wp, "window %s is already used by %s; keep one limit per window", fmtDuration(w), first)
				continue
			}
			windows[w] = ip
		}
	}
	if k := r.GetKey(); k != nil {
		validateRateLimitKey(e, p.Field("key"), k)
	}
}

// validateRateLimitKey checks what a budget is counted per.
func validateRateLimitKey(e *Errs, p Path, k *tollgatev1.RateLimitKey) {
	rateLimitKeys.check(e, p.Field("type"), k.GetType(), true)
	switch {
	case k.GetType() == RateLimitKeyHeader:
		checkHeaderName(e, p.Field("header"), k.GetHeader())
	case k.GetHeader() != "":
		e.Add(p.Field("header"), "only applies to key type header; remove it")
	}
}

// checkRequests checks a request count of a rate or spike limit.
func checkRequests(e *Errs, p Path, n uint32) {
	switch {
	case n == 0:
		e.Add(p, "must be at least 1")
	case n > MaxRequestsPerWindow:
		e.Add(p, "must be at most %d, got %d", MaxRequestsPerWindow, n)
	}
}

// validateSpikeControl checks burst smoothing: a delay longer than the
// window would queue requests beyond the next window's budget.
func validateSpikeControl(e *Errs, p Path, s *tollgatev1.SpikeControlPolicy) {
	checkRequests(e, p.Field("requests"), s.GetRequests())
	wp := p.Field("window")
	if s.GetWindow() == "" {
		e.Add(wp, "required: a duration between %s and %s", fmtDuration(MinRateWindow), fmtDuration(MaxSpikeWindow))
	}
	w, wok := checkDuration(e, wp, s.GetWindow(), span{min: MinRateWindow, max: MaxSpikeWindow})
	d, dok := checkDuration(e, p.Field("maxDelay"), s.GetMaxDelay(), span{max: MaxSpikeWindow, zeroOK: true})
	if wok && dok && d > w {
		e.Add(p.Field("maxDelay"), "must be at most window (%s), got %s", fmtDuration(w), fmtDuration(d))
	}
}

// validateTimeoutPolicy checks request and idle timeouts; "0s" disables
// the request timeout.
func validateTimeoutPolicy(e *Errs, p Path, t *tollgatev1.TimeoutPolicy) {
	if t.GetRequest() == "" && t.GetIdle() == "" {
		e.Add(p, "set request or idle")
	}
	checkDuration(e, p.Field("request"), t.GetRequest(), span{max: MaxRequestTimeout, zeroOK: true})
	checkDuration(e, p.Field("idle"), t.GetIdle(), span{max: MaxIdleTimeout})
}

// validateCircuitBreakerPolicy checks a circuit-breaker policy, which must
// change at least one threshold.
func validateCircuitBreakerPolicy(e *Errs, p Path, cb *tollgatev1.CircuitBreaker) {
	for _, f := range circuitBreakerFields(cb) {
		if f.v != 0 {
			checkCircuitBreaker(e, p, cb)
			return
		}
	}
	e.Add(p, "set at least one threshold: maxConnections, maxPendingRequests, maxRequests or maxRetries")
}
