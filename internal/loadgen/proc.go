package loadgen

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is USER_HZ, the unit of utime and stime in /proc/<pid>/stat:
// 100 on every Linux architecture Go supports (reading sysconf would need
// cgo).
const clockTick = 10 * time.Millisecond

// Proc reads the CPU time and resident memory of the measured server from
// /proc. A zero Proc measures this process itself (the in-process server,
// together with the simulated proxies that share the process).
type Proc struct {
	// PID is the server's process id; 0 means this process (/proc/self)
	// and a negative PID an external server whose process cannot be read
	// (CPU and RSS are then reported as 0).
	PID int
}

// Unavailable reports whether the server's process cannot be read.
func (p Proc) Unavailable() bool { return p.PID < 0 }

func (p Proc) dir() string {
	if p.PID == 0 {
		return "/proc/self"
	}
	return "/proc/" + strconv.Itoa(p.PID)
}

// Source says what is measured, for the report.
func (p Proc) Source() string {
	if p.Unavailable() {
		return "unavailable (external server without --server-pid)"
	}
	if p.PID == 0 {
		return "/proc/self (in-process server; includes the simulated proxies and the driver)"
	}
	return fmt.Sprintf("/proc/%d (server process)", p.PID)
}

// CPU returns utime + stime of the process.
func (p Proc) CPU() (time.Duration, error) {
	if p.Unavailable() {
		return 0, nil
	}
	data, err := os.ReadFile(p.dir() + "/stat")
	if err != nil {
		return 0, fmt.Errorf("read CPU time: %w", err)
	}
	// The command name (field 2) is in parentheses and may contain spaces:
	// fields are counted after its closing parenthesis.
	end := bytes.LastIndexByte(data, ')')
	if end < 0 {
		return 0, fmt.Errorf("read CPU time: unexpected %s/stat", p.dir())
	}
	fields := strings.Fields(string(data[end+1:]))
	// After the name: state is field 3, utime 14, stime 15.
	const utime, stime = 14 - 3, 15 - 3
	if len(fields) <= stime {
		return 0, fmt.Errorf("read CPU time: %s/stat has %d fields", p.dir(), len(fields)+2)
	}
	var ticks int64
	for _, f := range []string{fields[utime], fields[stime]} {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("read CPU time: %w", err)
		}
		ticks += v
	}
	return time.Duration(ticks) * clockTick, nil
}

// RSS returns the resident set size in bytes (VmRSS).
func (p Proc) RSS() (int64, error) {
	if p.Unavailable() {
		return 0, nil
	}
	data, err := os.ReadFile(p.dir() + "/status")
	if err != nil {
		return 0, fmt.Errorf("read RSS: %w", err)
	}
	for line := range strings.Lines(string(data)) {
		rest, ok := strings.CutPrefix(line, "VmRSS:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("read RSS: %w", err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("read RSS: no VmRSS in %s/status", p.dir())
}
