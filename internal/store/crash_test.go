package store

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"tollgate.dev/tollgate/internal/model"
)

// Environment of the crash writer child process.
const (
	crashFileEnv  = "TOLLGATE_STORE_CRASH_FILE"  // the data file to write
	crashStartEnv = "TOLLGATE_STORE_CRASH_START" // the first bundle number
	crashLabel    = "bundle"
	crashCounter  = "counter"
	crashNote     = "tollgate.dev/last-bundle"
)

// crashBundle is bundle i: three new Services labelled bundle=i, and the
// shared counter Service's annotation set to i.
func crashBundle(i int) []Change {
	var objs []model.Object
	for j := range 3 {
		s := service(fmt.Sprintf("b%d-%d", i, j))
		s.Metadata.Labels = map[string]string{crashLabel: strconv.Itoa(i)}
		objs = append(objs, s)
	}
	counter := service(crashCounter)
	counter.Metadata.Annotations = map[string]string{crashNote: strconv.Itoa(i)}
	return puts(append(objs, counter)...)
}

// TestCrashWriterChild is the child process of TestCrashSafety: it applies
// bundles forever, acknowledging each on stdout once Apply has returned.
func TestCrashWriterChild(t *testing.T) {
	path := os.Getenv(crashFileEnv)
	if path == "" {
		t.Skip("helper process for TestCrashSafety; runs only as its child")
	}
	start, err := strconv.Atoi(os.Getenv(crashStartEnv))
	require.NoError(t, err)
	b, err := OpenBolt(path)
	require.NoError(t, err)
	st, err := Open(b)
	require.NoError(t, err)
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(out, "READY")
	require.NoError(t, out.Flush())
	deadline := time.Now().Add(time.Minute) // the parent kills us long before
	for i := start; time.Now().Before(deadline); i++ {
		res, err := st.Apply(context.Background(), crashBundle(i), ApplyOptions{})
		require.NoError(t, err)
		fmt.Fprintf(out, "ACK %d %d\n", i, res.Revision)
		require.NoError(t, out.Flush())
	}
}

// TestCrashSafety kills a writer process with SIGKILL at random moments and
// checks, after each kill, that every acknowledged bundle survived and no
// bundle is half there.
func TestCrashSafety(t *testing.T) {
	iterations := 20
	if testing.Short() {
		iterations = 3
	}
	path := filepath.Join(t.TempDir(), "store.db")
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 42))
	next, totalAcked, began := 1, 0, time.Now()
	for it := range iterations {
		delay := time.Duration(5+rng.IntN(146)) * time.Millisecond
		acked, lastRev := runCrashChild(t, path, next, delay)
		last := verifyAfterCrash(t, path, acked, lastRev)
		t.Logf("iteration %d: killed after %v, %d bundles acknowledged, last bundle on disk %d", it, delay, len(acked), last)
		totalAcked += len(acked)
		next = last + 1
	}
	t.Logf("%d iterations, %d acknowledged bundles, %v", iterations, totalAcked, time.Since(began).Round(time.Millisecond))
}

// runCrashChild starts the writer at bundle next, kills it delay after it is
// ready, and returns the bundles it acknowledged and the last revision.
func runCrashChild(t *testing.T, path string, next int, delay time.Duration) (acked []int, lastRev uint64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashWriterChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashFileEnv+"="+path, crashStartEnv+"="+strconv.Itoa(next))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	lines := make(chan string, 1024)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	// stderr is written by exec's copying goroutine until Wait returns.
	fail := func(why string) {
		_ = cmd.Process.Kill()
		for range lines {
		}
		_ = cmd.Wait()
		t.Fatalf("crash writer child: %s; its stderr:\n%s", why, stderr.String())
	}
	select {
	case l, ok := <-lines:
		if !ok || l != "READY" {
			fail(fmt.Sprintf("did not start (first line %q)", l))
		}
	case <-time.After(time.Minute):
		fail("not ready after a minute")
	}
	time.Sleep(delay) // the random moment of the crash, not an assertion
	require.NoError(t, cmd.Process.Kill())
	for l := range lines { // everything the child wrote before it died
		if f := strings.Fields(l); len(f) == 3 && f[0] == "ACK" {
			i, err1 := strconv.Atoi(f[1])
			rev, err2 := strconv.ParseUint(f[2], 10, 64)
			require.NoError(t, err1)
			require.NoError(t, err2)
			acked, lastRev = append(acked, i), rev
		}
	}
	err = cmd.Wait()
	require.Error(t, err, "the child must die by the kill, not exit:\n%s", stderr.String())
	require.Equal(t, -1, cmd.ProcessState.ExitCode(), "killed by a signal:\n%s", stderr.String())
	return acked, lastRev
}

// verifyAfterCrash reopens the store and checks the promises; it returns
// the highest bundle number on disk.
func verifyAfterCrash(t *testing.T, path string, acked []int, lastRev uint64) int {
	t.Helper()
	st, err := openForTest(path)
	require.NoError(t, err, "the store must reopen after a crash")
	defer func() { require.NoError(t, st.Close()) }()
	svcs, err := st.Read().Services(nil)
	require.NoError(t, err)
	present := map[int]int{}
	for _, s := range svcs {
		if v, ok := s.GetMetadata().GetLabels()[crashLabel]; ok {
			i, err := strconv.Atoi(v)
			require.NoError(t, err)
			present[i]++
		}
	}
	last := 0
	for i, n := range present {
		require.Equal(t, 3, n, "bundle %d is partially present", i)
		last = max(last, i)
	}
	for _, i := range acked {
		require.Equal(t, 3, present[i], "acknowledged bundle %d was lost", i)
	}
	for i := 1; i <= last; i++ {
		require.Equal(t, 3, present[i], "bundle %d is missing although bundle %d is there", i, last)
	}
	rev := st.Revision()
	require.GreaterOrEqual(t, rev, lastRev, "revision went backwards")
	require.Equal(t, uint64(last), rev, "one revision per bundle")
	if last > 0 {
		counter, err := st.Read().Service(nil, crashCounter)
		require.NoError(t, err)
		require.Equal(t, strconv.Itoa(last), counter.GetMetadata().GetAnnotations()[crashNote], "the counter moved with its bundle")
	}
	return last
}
