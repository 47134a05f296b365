package localdir

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"

	"tollgate.dev/tollgate/internal/store"
)

// debounce is how long the directory must be quiet before it is reloaded.
// Editors, `git checkout` and ConfigMap updates write several files (or
// write one in several steps) in a burst; waiting for 100 ms of quiet applies
// the burst as one set instead of a half-written intermediate state, while
// still feeling immediate to someone saving a file.
const debounce = 100 * time.Millisecond

// Watcher keeps a store equal to a directory of definitions.
type Watcher struct {
	dir    string
	st     *store.Store
	log    *slog.Logger
	loaded atomic.Bool
	mu     sync.Mutex
	status Status
}

// New returns a Watcher that makes st follow dir once Run is called. A nil
// logger discards.
func New(dir string, st *store.Store, logger *slog.Logger) *Watcher {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	w := &Watcher{dir: dir, st: st, log: logger.With("configDir", dir)}
	w.status = Status{Dir: dir, Files: []string{}}
	w.status.InForce = w.status.inForce(st.Revision())
	return w
}

// Status returns a copy of the current status; safe for concurrent use.
func (w *Watcher) Status() Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.status.clone()
}

// Loaded reports whether the first load has been attempted, applied or not.
// Serving readiness waits for it so the proxies are never handed the state
// from before the directory was read.
func (w *Watcher) Loaded() bool { return w.loaded.Load() }

// Run loads the directory, applies it, and reloads it on every change until
// ctx ends. It returns an error only when the directory cannot be watched;
// broken files are reported in the log and in Status, never returned.
func (w *Watcher) Run(ctx context.Context) error {
	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch %q: %w", w.dir, err)
	}
	defer fsw.Close()
	// Watch before the first load so an edit made during it is not missed.
	if err := w.watchTree(fsw, w.dir); err != nil {
		return err
	}
	w.reload(ctx)
	w.loaded.Store(true)

	timer := time.NewTimer(debounce)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-fsw.Events:
			if !ok {
				return errors.New("directory watcher stopped")
			}
			if w.handle(fsw, ev) {
				timer.Reset(debounce)
			}
		case err, ok := <-fsw.Errors:
			if !ok {
				return errors.New("directory watcher stopped")
			}
			// An overflow means events were lost: reload to catch up.
			w.log.Warn("directory watch error; reloading to catch up", "error", err)
			timer.Reset(debounce)
		case <-timer.C:
			w.reload(ctx)
		}
	}
}

// handle decides whether an event can change the set, and starts watching
// directories as they appear. Files created in a new directory before its
// watch is added are still found: the reload it triggers rescans the tree.
func (w *Watcher) handle(fsw *fsnotify.Watcher, ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Chmod {
		return false
	}
	name := filepath.Base(ev.Name)
	if isEditorTemp(name) {
		return false
	}
	if ev.Has(fsnotify.Create) {
		if info, err := os.Stat(ev.Name); err == nil && info.IsDir() && !isHidden(name) {
			if err := w.watchTree(fsw, ev.Name); err != nil {
				w.log.Warn("cannot watch new directory", "path", ev.Name, "error", err)
			}
			return true
		}
	}
	// Hidden names matter only as Kubernetes' atomic "..data" swap;
	// otherwise any file or directory event may change the set.
	if isHidden(name) {
		return len(name) > 1 && name[1] == '.'
	}
	return true
}

// watchTree watches dir and every non-hidden directory below it.
func (w *Watcher) watchTree(fsw *fsnotify.Watcher, dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path != dir && errors.Is(err, fs.ErrNotExist) {
				return nil // removed while walking
			}
			return fmt.Errorf("watch %q: %w", path, err)
		}
		if !d.IsDir() {
			return nil
		}
		if path != dir && isHidden(d.Name()) {
			return filepath.SkipDir
		}
		if err := fsw.Add(path); err != nil {
			return fmt.Errorf("watch %q: %w", path, err)
		}
		return nil
	})
}

// reload loads the directory and applies it if, and only if, all of it is
// valid and the store accepts it as a whole.
func (w *Watcher) reload(ctx context.Context) {
	now := time.Now()
	s, err := load(w.dir)
	if err != nil {
		w.fail(now, err.Error(), nil)
		return
	}
	if len(s.violations) > 0 {
		w.fail(now, problems(len(s.violations))+" in the definition files", s.violations)
		return
	}
	res, err := w.st.Apply(ctx, s.changes, store.ApplyOptions{Replace: true})
	if err != nil {
		if ctx.Err() != nil {
			return // shutting down; the attempt says nothing about the files
		}
		msg, vs := s.explain(err)
		w.fail(now, msg, vs)
		return
	}
	w.succeed(now, s.files, res)
}

func (w *Watcher) fail(at time.Time, msg string, vs []Violation) {
	e := &LoadError{At: at, Message: msg, Violations: vs}
	w.mu.Lock()
	repeat := e.same(w.status.LastError)
	w.status.LastError = e
	w.status.InForce = w.status.inForce(w.st.Revision())
	w.mu.Unlock()
	if repeat {
		w.log.Debug("directory still not applied", "reason", msg)
		return
	}
	w.log.Error("directory not applied; the last good set stays in force", "reason", msg)
	for _, v := range vs {
		w.log.Error("invalid definition", "violation", v.String())
	}
}

func (w *Watcher) succeed(at time.Time, files []string, res store.Result) {
	w.mu.Lock()
	recovered := w.status.LastError != nil
	w.status.LastError = nil
	w.status.Files = files
	if w.status.Files == nil {
		w.status.Files = []string{}
	}
	if res.Changed || w.status.LastAppliedAt == nil {
		w.status.LastAppliedRevision = res.Revision
		w.status.LastAppliedAt = &at
	}
	w.status.InForce = w.status.inForce(res.Revision)
	w.mu.Unlock()

	counts := map[store.Action]int{}
	for _, o := range res.Objects {
		counts[o.Action]++
	}
	switch {
	case res.Changed:
		w.log.Info("directory applied", "revision", res.Revision, "files", len(files),
			"created", counts["created"], "updated", counts["updated"], "deleted", counts["deleted"], "unchanged", counts["unchanged"])
	case recovered:
		w.log.Info("directory valid again; the store already matched it", "revision", res.Revision)
	default:
		w.log.Debug("directory reloaded; nothing changed", "revision", res.Revision)
	}
}

func problems(n int) string {
	if n == 1 {
		return "1 problem"
	}
	return fmt.Sprintf("%d problems", n)
}
