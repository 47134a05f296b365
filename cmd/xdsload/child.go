package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"tollgate.dev/tollgate/internal/loadgen"
)

// The control plane runs in a child process by default because the
// simulated proxies and the driver cost more CPU and memory than the
// server they measure: in one process, /proc/self would mostly report
// them. The child is xdsload itself, re-executed with the hidden
// --serve-child flag:
//
//   - it starts the same stack as --in-process (ours or the --cache
//     baseline) on 127.0.0.1:0 ports over a temporary data directory and a
//     control endpoint (profiler.controlHandler) on its own 127.0.0.1:0
//     listener;
//   - once ready it writes one childReady JSON line to stdout, and nothing
//     else ever;
//   - it logs warnings to stderr, which is the parent's stderr;
//   - it stops when its stdin closes (the parent stopped or died) or on
//     SIGTERM (sent by the kernel, on Linux, when the parent dies:
//     Pdeathsig), so that it never outlives the parent.

// serveChildFlag is the hidden flag that makes xdsload the server child.
const serveChildFlag = "serve-child"

// childReady is the child's one line on stdout.
type childReady struct {
	// Admin is the admin API base URL and XDS the ADS host:port.
	Admin string `json:"admin"`
	XDS   string `json:"xds"`
	// Cache describes the xDS cache, for the report (Options.Cache).
	Cache string `json:"cache"`
	// Control is the base URL of the control endpoint (profile hooks).
	Control string `json:"control"`
}

// serveChild is the child's main: it serves until stdin closes, ctx ends
// or SIGTERM arrives, then shuts down and writes what profiles remain.
func serveChild(ctx context.Context, f flags, stdin io.Reader, stdout, stderr io.Writer) error {
	ctx, stopSignals := signal.NotifyContext(ctx, syscall.SIGTERM)
	defer stopSignals()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		// The parent never writes: a read returns only when the pipe
		// closes (the parent stopped us or died).
		_, _ = io.Copy(io.Discard, stdin)
		cancel()
	}()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var opts loadgen.Options
	stop, err := startServer(ctx, f.cache, &opts, log, stderr)
	if err != nil {
		return err
	}
	defer stop()
	prof := &profiler{cpuPath: f.cpuProfile, memPath: f.memProfile}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("control endpoint: %w", err)
	}
	ctl := &http.Server{Handler: prof.controlHandler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = ctl.Serve(ln) }()
	defer func() { _ = ctl.Close() }()
	line, err := json.Marshal(childReady{
		Admin: opts.AdminURL, XDS: opts.XDSAddress, Cache: opts.Cache, Control: "http://" + ln.Addr().String(),
	})
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", line); err != nil {
		return fmt.Errorf("announce the server: %w", err)
	}
	<-ctx.Done()
	return prof.stop()
}

// child is the parent's handle on a running server child.
type child struct {
	cmd     *exec.Cmd
	stdin   io.Closer
	exited  chan struct{} // closed once cmd.Wait returned
	waitErr error         // cmd.Wait's result, once exited is closed
	control string
	hc      *http.Client
}

// startChild starts the server child and points opts at it: admin URL,
// xDS address, cache, Proc (the child's pid, so that CPU and RSS are the
// server's alone) and, when profiles are asked for, the edits hooks that
// drive its profiler. died is called with the reason if the child exits
// before stop, so that the run fails at once instead of at its next
// deadline. stop closes the child's stdin and waits for it to exit.
func startChild(ctx context.Context, f flags, opts *loadgen.Options, log *slog.Logger, stderr io.Writer, died func(error)) (stop func(), err error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("server child: %w", err)
	}
	args := []string{"--" + serveChildFlag, "--cache", f.cache}
	if f.cpuProfile != "" {
		args = append(args, "--server-cpuprofile", f.cpuProfile)
	}
	if f.memProfile != "" {
		args = append(args, "--server-memprofile", f.memProfile)
	}
	// Not CommandContext: the child is stopped gracefully (stdin closed)
	// so that it can write its profiles and remove its data directory.
	cmd := exec.Command(exe, args...) //nolint:gosec // our own binary, our own flags
	cmd.Stderr = stderr
	cmd.SysProcAttr = childSysProcAttr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("server child: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, errors.Join(fmt.Errorf("server child: %w", err), stdin.Close())
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("server child: %w", err)
	}
	c := &child{cmd: cmd, stdin: stdin, exited: make(chan struct{}), hc: &http.Client{Timeout: opts.Wait}}
	ready, err := c.ready(ctx, stdout, opts.Wait)
	if err != nil {
		c.kill()
		return nil, err
	}
	// Wait only now: it closes stdout, which must be read first.
	go func() {
		c.waitErr = cmd.Wait()
		close(c.exited)
	}()
	stopping := make(chan struct{})
	go func() {
		select {
		case <-c.exited:
			err := c.waitErr
			if err == nil {
				err = errors.New("exit status 0")
			}
			died(fmt.Errorf("server child (pid %d) exited during the run: %w", cmd.Process.Pid, err))
		case <-stopping:
		}
	}()
	opts.AdminURL, opts.XDSAddress, opts.Cache = ready.Admin, ready.XDS, ready.Cache
	opts.Proc = loadgen.Proc{PID: cmd.Process.Pid}
	c.control = ready.Control
	if f.cpuProfile != "" || f.memProfile != "" {
		opts.EditsStart = func(ctx context.Context) error { return c.post(ctx, profileStartPath) }
		opts.EditsEnd = func(ctx context.Context) error { return c.post(ctx, profileStopPath) }
	}
	log.Info("control plane started in a child process", slog.Int("pid", cmd.Process.Pid),
		slog.String("cache", f.cache), slog.String("admin", opts.AdminURL), slog.String("xds", opts.XDSAddress))
	return func() {
		close(stopping)
		if err := c.stop(); err != nil {
			log.Error("server child stopped with an error", slog.Int("pid", cmd.Process.Pid), slog.Any("error", err))
		}
	}, nil
}

// ready reads the child's announcement, within wait.
func (c *child) ready(ctx context.Context, stdout io.Reader, wait time.Duration) (childReady, error) {
	type result struct {
		line []byte
		err  error
	}
	got := make(chan result, 1)
	go func() {
		line, err := bufio.NewReader(stdout).ReadBytes('\n')
		got <- result{line, err}
	}()
	var r result
	select {
	case r = <-got:
	case <-time.After(wait):
		return childReady{}, fmt.Errorf("server child: not ready within %v", wait)
	case <-ctx.Done():
		return childReady{}, ctx.Err()
	}
	if r.err != nil {
		return childReady{}, fmt.Errorf("server child exited before it was ready (see its errors above): %w", r.err)
	}
	var ready childReady
	if err := json.Unmarshal(r.line, &ready); err != nil {
		return ready, fmt.Errorf("server child: announcement %q: %w", strings.TrimSpace(string(r.line)), err)
	}
	if ready.Admin == "" || ready.XDS == "" || ready.Control == "" {
		return ready, fmt.Errorf("server child: incomplete announcement %q", strings.TrimSpace(string(r.line)))
	}
	return ready, nil
}

// post calls a control endpoint of the child.
func (c *child) post(ctx context.Context, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.control+path, http.NoBody)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("server child %s: %w", path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusNoContent {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		return fmt.Errorf("server child %s: %s: %s", path, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// childStopTimeout bounds a graceful stop: closing the store, removing the
// data directory and writing a heap profile take well under a second.
const childStopTimeout = 30 * time.Second

// stop closes the child's stdin, which ends it, and waits for it to exit;
// a child that does not is killed.
func (c *child) stop() error {
	_ = c.stdin.Close()
	select {
	case <-c.exited:
	case <-time.After(childStopTimeout):
		_ = c.cmd.Process.Kill()
		<-c.exited
		return fmt.Errorf("did not stop within %v after its stdin closed; killed", childStopTimeout)
	}
	return c.waitErr
}

// kill ends a child that never became ready.
func (c *child) kill() {
	_ = c.stdin.Close()
	_ = c.cmd.Process.Kill()
	_ = c.cmd.Wait()
}
