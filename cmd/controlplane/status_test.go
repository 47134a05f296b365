package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/xds"
)

func TestStatusCommand(t *testing.T) {
	t.Parallel()
	data := t.TempDir()
	s := startServe(t, nil, "--data-dir", data, "--admin-address", "127.0.0.1:0")
	c := cli{t: t, server: s.url}.withVars(dataDirEnv, data)
	c.ok("", "apply", "-f", "testdata/shop")
	require.Contains(t, c.ok("", "status"), "no proxies connected")
	require.Eventually(t, func() bool {
		r := c.run("", "status", "api", "shop")
		return r.code == 0 && bytes.Contains([]byte(r.stdout), []byte("API/shop: Accepted"))
	}, 10*time.Second, 10*time.Millisecond, "the API's status is served once translated")
	require.Contains(t, c.ok("", "status", "api", "shop"), "programmed on 0 of 0 proxies of gateways edge")
	require.Contains(t, c.ok("", "status", "policy", "shop-limit"), "warning: spec: policy translation is not implemented yet")
	require.Contains(t, c.fail("", "status", "api", "missing"), "API/missing not found")
	require.Contains(t, c.fail("", "status", "api"), "no arguments or KIND NAME")
}

func TestPrintNodes(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	nodes := []xds.NodeStatus{{
		NodeID: "edge-1", Gateway: "edge", State: xds.NodeServing, InSync: false, Delta: true,
		ConnectedSince: now.Add(-90 * time.Second),
		Types: map[string]xds.TypeStatus{
			"type.googleapis.com/envoy.config.cluster.v3.Cluster": {NACKed: true, LastNACK: &xds.NACK{
				At: now, Message: "cluster svc/orders:\n  bad   thing", Sources: []model.Key{{Kind: model.KindService, Name: "orders"}},
			}},
		},
	}}
	var out bytes.Buffer
	require.NoError(t, printNodes(&out, nodes, now))
	require.Contains(t, out.String(), "edge-1")
	require.Contains(t, out.String(), "delta")
	require.Contains(t, out.String(), "1m30s")
	require.Contains(t, out.String(), "cluster svc/orders: bad thing", "the rejection is shown on one line")
}
