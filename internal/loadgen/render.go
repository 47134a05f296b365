package loadgen

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// WriteText renders the report as a plain-text table, one metric per row,
// for a terminal or a BENCHMARKS.md code block.
func (r *Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(metric, value string) { _, _ = fmt.Fprintf(tw, "%s\t%s\n", metric, value) }
	row("run", fmt.Sprintf("%s, N=%d APIs, K=%d proxies (%d slow, %d NACKing), %d edits, seed %d",
		r.Mode, r.APIs, r.Proxies, r.Slow, r.NACKing, r.Edits, r.Seed))
	row("xDS cache", r.Cache)
	row("server process", r.ProcSource)
	row("bundle", fmt.Sprintf("%s, POST %s, POST → first proxy has it %s", kib(int64(r.BundleBytes)), ms(r.Apply), ms(r.FirstConfig)))
	row("connect storm: first full config", durations(r.Storm))
	row("edit: POST → all normal ACKed", durations(r.ACKed))
	row("edit: POST → all received (incl. slow/NACKing)", durations(r.AllSeen))
	row("edit: resource bytes per normal proxy", sizes(r.BytesPerProxy))
	row("edit: server CPU", durations(r.CPUPerEdit))
	row("idle server CPU (per second)", ms(r.IdleCPU))
	row("RSS base / loaded / connected", fmt.Sprintf("%s / %s / %s", kib(r.RSSBase), kib(r.RSSLoaded), kib(r.RSSConnected)))
	row("RSS per API / per proxy", fmt.Sprintf("%s / %s", kib(r.RSSPerAPI), kib(r.RSSPerProxy)))
	row("inconsistent responses (route → missing cluster)", fmt.Sprint(r.Inconsistencies))
	return tw.Flush()
}

func durations(d Durations) string {
	if d.N == 0 {
		return "no samples"
	}
	return fmt.Sprintf("p50 %s  p99 %s  max %s  mean %s  (n=%d)", ms(d.P50), ms(d.P99), ms(d.Max), ms(d.Mean), d.N)
}

func sizes(s Sizes) string {
	if s.N == 0 {
		return "no samples"
	}
	return fmt.Sprintf("p50 %s  p99 %s  max %s  mean %s  (n=%d)", kib(s.P50), kib(s.P99), kib(s.Max), kib(s.Mean), s.N)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// kib renders a byte count in KiB, or MiB from 10 MiB on.
func kib(b int64) string {
	if b >= 10<<20 || b <= -10<<20 {
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%.1f KiB", float64(b)/1024)
}
