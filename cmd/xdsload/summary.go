package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"tollgate.dev/tollgate/internal/loadgen"
)

// metric is one column of the summary: lower is better for every one.
type metric struct {
	name  string
	value func(*loadgen.Report) float64
	unit  string
}

var metrics = []metric{
	{"edit→all ACK p50", func(r *loadgen.Report) float64 { return ms(r.ACKed.P50) }, "ms"},
	{"edit→all ACK p99", func(r *loadgen.Report) float64 { return ms(r.ACKed.P99) }, "ms"},
	{"server CPU/edit mean", func(r *loadgen.Report) float64 { return ms(r.CPUPerEdit.Mean) }, "ms"},
	{"bytes/proxy/edit p50", func(r *loadgen.Report) float64 { return float64(r.BytesPerProxy.P50) / 1024 }, "KiB"},
	{"storm p99", func(r *loadgen.Report) float64 { return ms(r.Storm.P99) }, "ms"},
	{"RSS/proxy", func(r *loadgen.Report) float64 { return float64(r.RSSPerProxy) / 1024 }, "KiB"},
	{"RSS/API", func(r *loadgen.Report) float64 { return float64(r.RSSPerAPI) / 1024 }, "KiB"},
	{"idle CPU", func(r *loadgen.Report) float64 { return ms(r.IdleCPU) }, "ms/s"},
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// summarize prints, for every (N, K, mode) among the JSON reports in dir
// (xdsload -o json), one row per cache and a row with ours divided by the
// best baseline for each metric (< 1: ours is better).
func summarize(dir string, w io.Writer) error {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return fmt.Errorf("--summarize %s: %w", dir, err)
	}
	if len(paths) == 0 {
		return fmt.Errorf("--summarize %s: no *.json reports there (write them with xdsload -o json)", dir)
	}
	var reps []*loadgen.Report
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		r := &loadgen.Report{}
		if err := json.Unmarshal(b, r); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		reps = append(reps, r)
	}
	slices.SortFunc(reps, func(a, b *loadgen.Report) int {
		return cmp.Or(cmp.Compare(a.APIs, b.APIs), cmp.Compare(a.Proxies, b.Proxies),
			cmp.Compare(b.Mode, a.Mode), cmp.Compare(cacheRank(a.Cache), cacheRank(b.Cache)))
	})
	head := []string{"N", "K", "mode", "cache"}
	for _, m := range metrics {
		head = append(head, fmt.Sprintf("%s (%s)", m.name, m.unit))
	}
	fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat("---|", len(head)))
	for i := 0; i < len(reps); {
		j := i
		for j < len(reps) && reps[j].APIs == reps[i].APIs && reps[j].Proxies == reps[i].Proxies && reps[j].Mode == reps[i].Mode {
			j++
		}
		group := reps[i:j]
		var mine *loadgen.Report
		for _, r := range group {
			row := []string{fmt.Sprint(r.APIs), fmt.Sprint(r.Proxies), r.Mode, cacheLabel(r.Cache)}
			for _, m := range metrics {
				row = append(row, fmt.Sprintf("%.1f", m.value(r)))
			}
			fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
			if cacheRank(r.Cache) == 0 {
				mine = r
			}
		}
		if mine != nil && len(group) > 1 {
			row := []string{"", "", "", "**ours ÷ best baseline**"}
			for _, m := range metrics {
				best := -1.0
				for _, r := range group {
					if r != mine && (best < 0 || m.value(r) < best) {
						best = m.value(r)
					}
				}
				if best <= 0 {
					row = append(row, "—")
					continue
				}
				row = append(row, fmt.Sprintf("**%.2f**", m.value(mine)/best))
			}
			fmt.Fprintf(w, "| %s |\n", strings.Join(row, " | "))
		}
		i = j
	}
	return nil
}

// cacheRank orders ours first, then the baselines.
func cacheRank(c string) int {
	switch {
	case strings.HasPrefix(c, "ours"):
		return 0
	case strings.Contains(c, "Snapshot"), strings.Contains(c, "snapshot"):
		return 1
	}
	return 2
}

// cacheLabel shortens the report's cache description for the table.
func cacheLabel(c string) string {
	switch cacheRank(c) {
	case 0:
		return "ours"
	case 1:
		return "SnapshotCache"
	}
	return "LinearCache+MuxCache"
}
