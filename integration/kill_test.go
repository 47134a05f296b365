package integration

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestKillDuringWrites is RELIABILITY.md's "kill -9 during a stream of
// writes" through the real binary and HTTP: a writer posts bundles of three
// objects as fast as it can, the server is SIGKILLed at a random moment,
// restarted on the same data dir, and then every bundle that got a 2xx must
// be there whole, and no bundle may be there in part.
func TestKillDuringWrites(t *testing.T) {
	rounds := 5
	if testing.Short() {
		rounds = 2
		t.Logf("short mode: %d kill rounds instead of 5", rounds)
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	next := 0 // bundle numbers continue across rounds
	acked := map[int]bool{}
	for round := 0; round < rounds; round++ {
		srv := startServer(t, "--data-dir", dir, "--admin-address", "127.0.0.1:0")
		checkBundles(t, srv, next, acked)
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			stop = make(chan struct{})
		)
		wg.Go(func() {
			client := srv.client()
			for i := next; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				mu.Lock()
				next = i + 1
				mu.Unlock()
				resp, err := client.Do(srv.request(http.MethodPost, "/v1/apply", "application/yaml", bundle(i)))
				if err != nil {
					return // the server is gone
				}
				_ = resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					mu.Lock()
					acked[i] = true
					mu.Unlock()
				}
			}
		})
		time.Sleep(time.Duration(50+rng.IntN(250)) * time.Millisecond)
		require.NoError(t, srv.cmd.Process.Kill())
		<-srv.done
		close(stop)
		wg.Wait()
	}
	srv := startServer(t, "--data-dir", dir, "--admin-address", "127.0.0.1:0")
	checkBundles(t, srv, next, acked)
	require.NotEmpty(t, acked, "the writer got no write acknowledged; the test proved nothing")
	t.Logf("%d rounds, %d bundles attempted, %d acknowledged", rounds, next, len(acked))
}

// bundle i is three Services labelled bundle=i.
func bundle(i int) string {
	var b strings.Builder
	for _, part := range []string{"a", "b", "c"} {
		fmt.Fprintf(&b, "---\napiVersion: tollgate.dev/v1\nkind: Service\nmetadata: {name: b%d-%s, labels: {bundle: \"%d\"}}\nspec: {endpoints: [{address: 10.0.0.1, port: 80}]}\n", i, part, i)
	}
	return b.String()
}

// checkBundles asserts every acknowledged bundle below n is whole and every
// other one is whole or absent.
func checkBundles(t *testing.T, srv *server, n int, acked map[int]bool) {
	t.Helper()
	resp, err := srv.client().Do(srv.request(http.MethodGet, "/v1/services", "", ""))
	require.NoError(t, err)
	defer resp.Body.Close()
	var list struct {
		Items []struct {
			Metadata struct {
				Labels map[string]string `json:"labels"`
			} `json:"metadata"`
		} `json:"items"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&list))
	count := map[string]int{}
	for _, it := range list.Items {
		count[it.Metadata.Labels["bundle"]]++
	}
	for i := 0; i < n; i++ {
		c := count[fmt.Sprint(i)]
		require.Contains(t, []int{0, 3}, c, "bundle %d is half-applied: %d of 3 objects", i, c)
		if acked[i] {
			require.Equal(t, 3, c, "bundle %d was acknowledged and is lost", i)
		}
	}
}
