package integration

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// bin is the controlplane binary under test, built once by TestMain.
var bin string

// waitTimeout bounds every wait on a child process or a condition.
const waitTimeout = 30 * time.Second

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "tollgate-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin = filepath.Join(dir, "controlplane")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, "./cmd/controlplane")...)
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "integration: go build failed: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// childEnv is the process environment without any CONTROLPLANE_* variable
// a developer may have set, plus extra. A race-enabled child would sleep a
// second at every exit (the detector's default atexit_sleep_ms), which adds
// up over dozens of CLI runs; a race it finds still fails the test through
// its exit code (66).
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CONTROLPLANE_") {
			env = append(env, kv)
		}
	}
	if _, set := os.LookupEnv("GORACE"); raceEnabled && !set {
		env = append(env, "GORACE=atexit_sleep_ms=0")
	}
	return append(env, extra...)
}

// lockedBuffer collects a child's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// server is a `controlplane serve` child process.
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	url  string
	data string // --data-dir: where serve writes its admin token and CA
	logs *lockedBuffer
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, valid after done
}

var listening = regexp.MustCompile(`admin API listening on (https?://[0-9.:\[\]]+)`)

// startServer runs serve and waits for it to log its admin address. The
// process is killed when the test ends if it is still running.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	s := &server{t: t, logs: &lockedBuffer{}, done: make(chan struct{})}
	for i, a := range args {
		if a == "--data-dir" && i+1 < len(args) {
			s.data = args[i+1]
		}
	}
	// Every server gets its own ephemeral xDS port: tests run in parallel
	// and must never depend on the default 18000 being free.
	s.cmd = exec.Command(bin, append([]string{"serve", "--xds-address", "127.0.0.1:0"}, args...)...)
	s.cmd.Env = childEnv()
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stdout = s.logs
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	found := make(chan string, 1)
	go s.scan(stderr, found)
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
	select {
	case s.url = <-found:
		return s
	case <-s.done:
		t.Fatalf("serve exited before listening (%v):\n%s", s.err, s.logs)
	case <-time.After(waitTimeout):
		t.Fatalf("serve did not log its admin address within %s:\n%s", waitTimeout, s.logs)
	}
	return nil
}

// scan copies the log into s.logs, reports the admin URL once, and reaps
// the process after its output ends.
func (s *server) scan(r io.Reader, found chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		_, _ = s.logs.Write([]byte(line + "\n"))
		if m := listening.FindStringSubmatch(line); m != nil {
			select {
			case found <- m[1]:
			default:
			}
		}
	}
	_, _ = io.Copy(s.logs, r)
	s.err = s.cmd.Wait()
	close(s.done)
}

// client is an HTTP client of the admin API that trusts the server's CA.
func (s *server) client() *http.Client {
	s.t.Helper()
	pool := x509.NewCertPool()
	ca, err := os.ReadFile(filepath.Join(s.data, "ca.pem"))
	if err != nil || !pool.AppendCertsFromPEM(ca) {
		s.t.Fatalf("read the server's CA bundle: %v", err)
	}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
}

// request builds an admin request carrying the server's admin token.
func (s *server) request(method, path, contentType, body string) *http.Request {
	s.t.Helper()
	tok, err := os.ReadFile(filepath.Join(s.data, "admin.token"))
	if err != nil {
		s.t.Fatalf("read the admin token: %v", err)
	}
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	return req
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatalf("signal serve: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(waitTimeout):
		s.t.Fatalf("serve did not exit within %s of SIGTERM:\n%s", waitTimeout, s.logs)
	}
	if s.err != nil {
		s.t.Fatalf("serve exited with %v after SIGTERM:\n%s", s.err, s.logs)
	}
}

// result is one CLI run.
type result struct {
	stdout, stderr string
	code           int
}

// cli runs the binary with args against srv (nil for none) and stdin, as
// the user who runs srv: the CLI finds the admin token and the CA in its
// data directory.
func cli(t *testing.T, srv *server, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = childEnv("CONTROLPLANE_DATA_DIR=" + t.TempDir())
	if srv != nil {
		cmd.Env = childEnv("CONTROLPLANE_SERVER="+srv.url, "CONTROLPLANE_DATA_DIR="+srv.data)
	}
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	code := 0
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run %v: %v", args, err)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// ok runs a CLI command that must succeed and returns its stdout.
func ok(t *testing.T, srv *server, args ...string) string {
	t.Helper()
	r := cli(t, srv, "", args...)
	if r.code != 0 {
		t.Fatalf("%v exited %d:\n%s", args, r.code, r.stderr)
	}
	return r.stdout
}

// eventually polls cond until it holds or waitTimeout passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", waitTimeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
