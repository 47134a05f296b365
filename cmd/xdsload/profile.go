package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
)

// profiler writes the server's CPU profile over the edits phase and its
// heap profile after it. Only the edits are profiled because they are what
// the report's "server CPU per edit" measures; the bundle load and the
// connect storm would otherwise dominate the profile. It runs in the
// process that serves xDS: the child, driven over its control endpoint
// (controlHandler), or, with --in-process, xdsload itself.
type profiler struct {
	cpuPath, memPath string

	mu      sync.Mutex
	cpu     *os.File // the CPU profile being written, between start and stop
	started bool     // start was called: a second start is a no-op
	heapOut bool     // the heap profile was written
}

// enabled reports whether any profile was asked for.
func (p *profiler) enabled() bool { return p.cpuPath != "" || p.memPath != "" }

// start begins the CPU profile (if asked for) just before the first
// timed edit.
func (p *profiler) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started || p.cpuPath == "" {
		p.started = true
		return nil
	}
	p.started = true
	f, err := os.Create(p.cpuPath)
	if err != nil {
		return fmt.Errorf("server CPU profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		return errors.Join(fmt.Errorf("server CPU profile: %w", err), f.Close())
	}
	p.cpu = f
	return nil
}

// stop ends the CPU profile and writes the heap profile, just after the
// last edit while every proxy is still connected, so that the heap shows
// the per-stream state as well as the shared configuration. It is called
// again when the server shuts down, where it only writes what a run that
// ended early (an error, or no edits reached) left unwritten: a profile
// asked for always exists afterwards.
func (p *profiler) stop() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return errors.Join(p.stopCPU(), p.writeHeap())
}

func (p *profiler) stopCPU() error {
	if p.cpu == nil {
		return nil
	}
	pprof.StopCPUProfile()
	err := p.cpu.Close()
	p.cpu = nil
	if err != nil {
		return fmt.Errorf("server CPU profile: %w", err)
	}
	return nil
}

func (p *profiler) writeHeap() error {
	if p.memPath == "" || p.heapOut {
		return nil
	}
	p.heapOut = true
	f, err := os.Create(p.memPath)
	if err != nil {
		return fmt.Errorf("server heap profile: %w", err)
	}
	runtime.GC() // the profile shows live objects as of the last GC: make that now
	err = pprof.Lookup("heap").WriteTo(f, 0)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("server heap profile: %w", err)
	}
	return nil
}

// Paths of the child's control endpoint. They are POSTs answered once the
// action is done (204), so the parent knows the profile runs before it
// posts its first edit; a failure is a 500 with the error as text.
const (
	profileStartPath = "/profile/start"
	profileStopPath  = "/profile/stop"
)

// controlHandler serves the child's control endpoint: the parent's
// EditsStart and EditsEnd hooks call it. HTTP rather than signals because
// a signal is asynchronous (the parent could not tell when the profile has
// started) and cannot report a failure.
func (p *profiler) controlHandler() http.Handler {
	mux := http.NewServeMux()
	handle := func(action func() error) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			if err := action(); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}
	}
	mux.Handle("POST "+profileStartPath, handle(p.start))
	mux.Handle("POST "+profileStopPath, handle(p.stop))
	return mux
}
