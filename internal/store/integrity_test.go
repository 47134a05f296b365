package store

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/model"
)

func TestReferentialIntegrity(t *testing.T) {
	shopTwoRoutes := api("shop", []string{"edge"}, "orders", "orders")
	tests := []struct {
		name    string
		initial []model.Object
		changes []Change
		opts    ApplyOptions
		// exactly one of these describes the outcome
		wantConflict *ConflictError
		wantViolated string // the path of the single violation
		wantMessage  string // contained in the error
		wantOK       bool
	}{
		{
			name:    "deleting a referenced service",
			initial: baseObjects(),
			changes: []Change{del(model.KindService, "orders")},
			wantConflict: &ConflictError{
				Reason: ReasonReferenced, Key: model.Key{Kind: model.KindService, Name: "orders"},
				Referrers: []Referrer{{Kind: model.KindAPI, Name: "shop", Path: "spec.routes[0].backends[0].service"}},
			},
			wantMessage: "Service/orders is still referenced by API/shop (spec.routes[0].backends[0].service); remove those references first",
		},
		{
			name:    "deleting a gateway lists every referrer in kind order",
			initial: append(baseObjects(), policy("gw-timeout", model.KindGateway, "edge", "")),
			changes: []Change{del(model.KindGateway, "edge")},
			wantConflict: &ConflictError{
				Reason: ReasonReferenced, Key: model.Key{Kind: model.KindGateway, Name: "edge"},
				Referrers: []Referrer{
					{Kind: model.KindAPI, Name: "shop", Path: "spec.gateways[0]"},
					{Kind: model.KindPolicy, Name: "gw-timeout", Path: "spec.targetRef.name"},
				},
			},
			wantMessage: "Gateway/edge is still referenced by API/shop (spec.gateways[0]), Policy/gw-timeout (spec.targetRef.name)",
		},
		{
			name:    "deleting a referrer and its target together",
			initial: baseObjects(),
			changes: []Change{del(model.KindAPI, "shop"), del(model.KindService, "orders")},
			wantOK:  true,
		},
		{
			name:    "replace deletes a referenced object along with its referrer",
			initial: append(baseObjects(), policy("p", model.KindAPI, "shop", "r1")),
			changes: puts(gateway("edge")),
			opts:    ApplyOptions{Replace: true},
			wantOK:  true,
		},
		{
			name:    "replace keeping a referrer but not its target",
			initial: baseObjects(),
			changes: puts(gateway("edge"), api("shop", []string{"edge"}, "orders")),
			opts:    ApplyOptions{Replace: true},
			// The API is in the bundle, so its dangling reference is its own violation.
			wantViolated: "spec.routes[0].backends[0].service",
			wantMessage:  `Service "orders" not found; create it first or in the same bundle`,
		},
		{
			name:    "an API update removing a route a policy targets",
			initial: []model.Object{gateway("edge"), service("orders"), shopTwoRoutes, policy("slow", model.KindAPI, "shop", "r2")},
			changes: puts(api("shop", []string{"edge"}, "orders")),
			wantConflict: &ConflictError{
				Reason: ReasonReferenced, Key: model.Key{Kind: model.KindAPI, Name: "shop"},
				Referrers: []Referrer{{Kind: model.KindPolicy, Name: "slow", Path: "spec.targetRef.name"}},
			},
			wantMessage: `Policy/slow (spec.targetRef.name: API "shop" has no route named "r2" (its routes: r1))`,
		},
		{
			name:         "a policy targeting a route that does not exist",
			initial:      baseObjects(),
			changes:      puts(policy("slow", model.KindAPI, "shop", "r9")),
			wantViolated: "spec.targetRef.name",
			wantMessage:  `API "shop" has no route named "r9" (its routes: r1)`,
		},
		{
			name:         "a listener certificate that is a CA secret",
			initial:      baseObjects(),
			changes:      puts(caSecret("edge-cert"), caSecret("client-ca"), httpsGateway("secure", "edge-cert", "client-ca")),
			wantViolated: "spec.listeners[1].tls.certificates[0].secret",
			wantMessage:  `Secret "edge-cert" has type "ca" but this field needs a Secret of type "tls"`,
		},
		{
			name:    "changing a secret's type under its referrer",
			initial: []model.Object{tlsSecret("edge-cert"), caSecret("client-ca"), httpsGateway("secure", "edge-cert", "client-ca")},
			changes: puts(caSecret("edge-cert")),
			wantConflict: &ConflictError{
				Reason: ReasonReferenced, Key: model.Key{Kind: model.KindSecret, Name: "edge-cert"},
				Referrers: []Referrer{{Kind: model.KindGateway, Name: "secure", Path: "spec.listeners[1].tls.certificates[0].secret"}},
			},
		},
		{
			name:    "referring to objects created in the same bundle",
			changes: puts(api("shop", []string{"edge"}, "orders"), service("orders"), gateway("edge")),
			wantOK:  true,
		},
		{
			name:    "a TCP listener and a TLS service with their secrets",
			changes: puts(caSecret("upstream-ca"), tlsService("db", "upstream-ca"), tcpGateway("tcp", "db")),
			wantOK:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, _ := newStore(t)
			if len(tt.initial) > 0 {
				mustApply(t, st, puts(tt.initial...), ApplyOptions{})
			}
			rev, before := st.Revision(), dump(t, st)
			_, err := st.Apply(context.Background(), tt.changes, tt.opts)
			if tt.wantOK {
				require.NoError(t, err)
				require.Equal(t, rev+1, st.Revision())
				return
			}
			require.Error(t, err)
			if tt.wantMessage != "" {
				require.Contains(t, err.Error(), tt.wantMessage)
			}
			if tt.wantConflict != nil {
				var ce *ConflictError
				require.ErrorAs(t, err, &ce)
				require.Equal(t, tt.wantConflict.Reason, ce.Reason)
				require.Equal(t, tt.wantConflict.Key, ce.Key)
				require.Equal(t, tt.wantConflict.Referrers, ce.Referrers)
			} else {
				var vs model.Violations
				require.ErrorAs(t, err, &vs)
				require.Len(t, vs, 1, "%v", vs)
				require.Equal(t, tt.wantViolated, vs[0].Path)
			}
			require.Equal(t, rev, st.Revision())
			requireSameState(t, before, dump(t, st))
		})
	}
}

func TestApplyDryRun(t *testing.T) {
	st, _ := newStore(t)
	mustApply(t, st, puts(baseObjects()...), ApplyOptions{})
	rev, before := st.Revision(), dump(t, st)

	res := mustApply(t, st, append(puts(tweak(service("orders")), gateway("edge"), service("extra")), del(model.KindAPI, "shop")),
		ApplyOptions{DryRun: true})
	require.Equal(t, Result{Revision: rev + 1, Changed: true, DryRun: true, Objects: []ObjectResult{
		{Kind: model.KindService, Name: "orders", Action: ActionUpdated, ResourceVersion: "2"},
		{Kind: model.KindGateway, Name: "edge", Action: ActionUnchanged, ResourceVersion: "1"},
		{Kind: model.KindService, Name: "extra", Action: ActionCreated, ResourceVersion: "2"},
		{Kind: model.KindAPI, Name: "shop", Action: ActionDeleted},
	}}, res)
	require.Equal(t, rev, st.Revision())
	requireSameState(t, before, dump(t, st))

	// A dry run runs every check.
	_, err := st.Apply(context.Background(), []Change{del(model.KindService, "orders")}, ApplyOptions{DryRun: true})
	var ce *ConflictError
	require.ErrorAs(t, err, &ce)

	// A dry run of a replace reports the implied deletions, sorted.
	res = mustApply(t, st, puts(gateway("edge")), ApplyOptions{DryRun: true, Replace: true})
	require.Equal(t, []ObjectResult{
		{Kind: model.KindGateway, Name: "edge", Action: ActionUnchanged, ResourceVersion: "1"},
		{Kind: model.KindService, Name: "orders", Action: ActionDeleted},
		{Kind: model.KindAPI, Name: "shop", Action: ActionDeleted},
	}, res.Objects)
	require.Equal(t, rev, st.Revision())
	requireSameState(t, before, dump(t, st))
}

func TestApplyReplaceResultOrder(t *testing.T) {
	st, _ := newStore(t)
	mustApply(t, st, puts(append(baseObjects(), service("b"), service("a"), caSecret("ca"))...), ApplyOptions{})
	res := mustApply(t, st, puts(service("orders"), gateway("edge"), service("new")), ApplyOptions{Replace: true})
	require.Equal(t, []string{"Service/orders", "Gateway/edge", "Service/new", "Secret/ca", "Service/a", "Service/b", "API/shop"},
		resultKeys(res))
	require.Equal(t, map[string]Action{
		"Service/orders": ActionUnchanged, "Gateway/edge": ActionUnchanged, "Service/new": ActionCreated,
		"Secret/ca": ActionDeleted, "Service/a": ActionDeleted, "Service/b": ActionDeleted, "API/shop": ActionDeleted,
	}, actions(res))
	require.Equal(t, []string{"Service/new", "Service/orders", "Gateway/edge"}, keysOf(dump(t, st)))

	// Replacing with the same state again changes nothing.
	again := mustApply(t, st, puts(service("orders"), gateway("edge"), service("new")), ApplyOptions{Replace: true})
	require.False(t, again.Changed)
	require.Equal(t, res.Revision, again.Revision)
}

func resultKeys(res Result) []string {
	ks := make([]string, len(res.Objects))
	for i, o := range res.Objects {
		ks[i] = string(o.Kind) + "/" + o.Name
	}
	return ks
}
