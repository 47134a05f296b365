package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Outcome classifies an audited attempt; it is derived from the answer so
// a reader can filter without knowing every status code.
type Outcome string

// The outcomes a record can carry.
const (
	// OutcomeOK is a 2xx answer: the attempt succeeded (or its dry run did).
	OutcomeOK Outcome = "ok"
	// OutcomeRejected is a 4xx other than 401/403: the request was wrong.
	OutcomeRejected Outcome = "rejected"
	// OutcomeDenied is a 403: the caller is known but lacks the role.
	OutcomeDenied Outcome = "denied"
	// OutcomeUnauthenticated is a 401: no or unrecognised credentials.
	OutcomeUnauthenticated Outcome = "unauthenticated"
	// OutcomeError is a 5xx: the server failed.
	OutcomeError Outcome = "error"
)

// OutcomeOf maps an HTTP status code to its outcome.
func OutcomeOf(status int) Outcome {
	switch {
	case status == 401:
		return OutcomeUnauthenticated
	case status == 403:
		return OutcomeDenied
	case status >= 500:
		return OutcomeError
	case status >= 400:
		return OutcomeRejected
	}
	return OutcomeOK
}

// Record is one audited attempt. It never holds a request body or a secret
// value: Objects names what was targeted ("Kind/name"), nothing more.
type Record struct {
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`
	Role   string    `json:"role,omitempty"`
	Remote string    `json:"remote,omitempty"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	// Query is the raw query restricted to parameters the endpoint
	// understands (e.g. dryRun=true), so a stray ?token= is not recorded.
	Query   string   `json:"query,omitempty"`
	Objects []string `json:"objects,omitempty"`
	Status  int      `json:"status"`
	Outcome Outcome  `json:"outcome"`
	// Reason is the admin API's error reason code, empty on success.
	Reason string `json:"reason,omitempty"`
	DryRun bool   `json:"dryRun,omitempty"`
}

// Log appends records as JSON lines. It is safe for concurrent use.
type Log struct {
	mu   sync.Mutex
	w    io.Writer
	f    *os.File // non-nil when file-backed: synced after every record
	path string
}

// Open appends to the file at path, creating it readable by the owner only:
// the log names operators and objects, which is not for every local user.
func Open(path string) (*Log, error) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit log %q: %w", path, err)
	}
	return &Log{w: f, f: f, path: path}, nil
}

// New writes records to w without syncing; for tests and stdout.
func New(w io.Writer) *Log { return &Log{w: w} }

// Path is the file the log appends to, "" when it is not file-backed.
func (l *Log) Path() string { return l.path }

// Write appends rec as one line with a single write call, so concurrent
// writers (even other processes on the same O_APPEND file) never interleave
// within a line, and syncs a file-backed log before returning: a caller
// that answers only after Write returns never acknowledges an unlogged
// attempt. A zero Time is set to now.
func (l *Log) Write(rec Record) error {
	if rec.Time.IsZero() {
		rec.Time = time.Now()
	}
	rec.Time = rec.Time.UTC()
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("audit record: %w", err)
	}
	b = append(b, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.w.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return fmt.Errorf("audit log %q: write: %w", l.path, err)
	}
	if l.f != nil {
		if err := l.f.Sync(); err != nil {
			return fmt.Errorf("audit log %q: sync: %w", l.path, err)
		}
	}
	return nil
}

// Close closes a file-backed log; later writes fail. A log made by New
// leaves its writer open: the caller owns it.
func (l *Log) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	return l.f.Close()
}

// Read returns every record of the log file at path, oldest first.
func Read(path string) ([]Record, error) {
	return Tail(path, 0)
}

// Tail returns the newest n records of the log file at path, oldest first
// (every record when n <= 0). It scans the whole file but holds only n
// records, so a long log costs time, not memory.
func Tail(path string, n int) ([]Record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("audit log %q: %w", path, err)
	}
	defer f.Close()
	var (
		lines [][]byte
		line  int
	)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		lines = append(lines, bytes.Clone(b))
		if n > 0 && len(lines) > n {
			lines = lines[1:]
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("audit log %q: line %d: %w", path, line+1, err)
	}
	recs := make([]Record, 0, len(lines))
	for _, b := range lines {
		var r Record
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("audit log %q: %w", path, errors.Join(errors.New("malformed record"), err))
		}
		recs = append(recs, r)
	}
	return recs, nil
}
