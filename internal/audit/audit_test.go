package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestOpenWriteRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := Open(path)
	require.NoError(t, err)
	require.Equal(t, path, l.Path())
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "only the owner reads the audit log")

	want := Record{
		Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)), Actor: "alice", Role: "editor",
		Remote: "10.0.0.1:1234", Method: "PUT", Path: "/v1/services/s", Query: "dryRun=true",
		Objects: []string{"Service/s"}, Status: 200, Outcome: OutcomeOK, DryRun: true,
	}
	require.NoError(t, l.Write(want))
	require.NoError(t, l.Write(Record{Actor: "bob", Method: "DELETE", Path: "/v1/apis/a", Status: 403, Outcome: OutcomeDenied, Reason: "Forbidden"}))
	require.NoError(t, l.Close())
	require.Error(t, l.Write(Record{}), "a closed log refuses records")

	// Reopening appends rather than truncating.
	l, err = Open(path)
	require.NoError(t, err)
	require.NoError(t, l.Write(Record{Actor: "carol", Status: 401, Outcome: OutcomeUnauthenticated}))
	require.NoError(t, l.Close())

	got, err := Read(path)
	require.NoError(t, err)
	require.Len(t, got, 3)
	want.Time = want.Time.UTC()
	require.Equal(t, want, got[0])
	require.False(t, got[1].Time.IsZero(), "a zero time is stamped")
	require.Equal(t, "carol", got[2].Actor)

	tail, err := Tail(path, 2)
	require.NoError(t, err)
	require.Equal(t, []string{"bob", "carol"}, []string{tail[0].Actor, tail[1].Actor})
}

func TestConcurrentWritesAreWholeLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := Open(path)
	require.NoError(t, err)
	defer l.Close()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 25 {
				if err := l.Write(Record{Actor: fmt.Sprintf("g%d", g), Path: strings.Repeat("p", 500), Status: i}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	require.Len(t, lines, 200)
	for _, ln := range lines {
		require.True(t, json.Valid(ln), "line is whole JSON: %s", ln)
	}
}

func TestNewWriter(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf)
	require.Empty(t, l.Path())
	require.NoError(t, l.Write(Record{Actor: "a", Status: 500, Outcome: OutcomeOf(500)}))
	require.NoError(t, l.Close())
	require.Equal(t, 1, bytes.Count(buf.Bytes(), []byte("\n")))
	require.Contains(t, buf.String(), `"outcome":"error"`)
}

func TestOutcomeOf(t *testing.T) {
	for code, want := range map[int]Outcome{
		200: OutcomeOK, 201: OutcomeOK, 400: OutcomeRejected, 401: OutcomeUnauthenticated,
		403: OutcomeDenied, 405: OutcomeRejected, 409: OutcomeRejected, 413: OutcomeRejected, 500: OutcomeError, 501: OutcomeError,
	} {
		require.Equal(t, want, OutcomeOf(code), "%d", code)
	}
}

func TestReadMalformed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	require.NoError(t, os.WriteFile(path, []byte("{\"actor\":\"a\"}\nnot json\n"), 0o600))
	_, err := Read(path)
	require.ErrorContains(t, err, "malformed")
	_, err = Read(filepath.Join(t.TempDir(), "missing"))
	require.Error(t, err)
}
