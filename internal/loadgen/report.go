package loadgen

import (
	"slices"
	"time"
)

// Report is the outcome of one Run.
type Report struct {
	// Mode is "sotw" or "delta".
	Mode string
	// Cache is the xDS cache that served the run (Options.Cache).
	Cache string
	// APIs, Proxies, Slow, NACKing, Edits and Seed repeat the options.
	APIs, Proxies, Slow, NACKing, Edits int
	Seed                                int64
	// ProcSource says which process CPU and RSS were read from.
	ProcSource string

	// BundleBytes is the size of the generated bundle.
	BundleBytes int
	// Apply is the POST of the whole bundle.
	Apply time.Duration
	// FirstConfig is POST of the bundle → one proxy holds all of it.
	FirstConfig time.Duration
	// Storm is, over the proxies connecting at once, the time from the
	// storm's start until each held its first full configuration.
	Storm Durations

	// RSSBase, RSSLoaded and RSSConnected are the RSS before the bundle,
	// after it was served once, and with every proxy connected.
	RSSBase, RSSLoaded, RSSConnected int64
	// RSSPerAPI and RSSPerProxy are the differences divided by N and K
	// (signed: the runtime may return memory in between).
	RSSPerAPI, RSSPerProxy int64
	// IdleCPU is server CPU per second of wall time with every proxy
	// connected and nothing changing.
	IdleCPU time.Duration

	// EditResults are the edits in order.
	EditResults []EditResult
	// ACKed summarizes POST → every normal proxy ACKed, over the edits.
	ACKed Durations
	// AllSeen summarizes POST → every proxy received, over the edits.
	AllSeen Durations
	// CPUPerEdit summarizes the server CPU per edit.
	CPUPerEdit Durations
	// BytesPerProxy summarizes resource bytes per normal proxy per edit.
	BytesPerProxy Sizes
	// Inconsistencies counts responses after which a proxy held a route
	// naming a cluster it did not hold; anything but 0 is a server bug.
	Inconsistencies int
}

// Durations summarizes samples by nearest rank.
type Durations struct {
	// N is the number of samples.
	N                        int
	P50, P99, Max, Mean, Min time.Duration
}

// Sizes summarizes byte counts by nearest rank.
type Sizes struct {
	// N is the number of samples.
	N                   int
	P50, P99, Max, Mean int64
}

func newReport(o Options) *Report {
	mode := "sotw"
	if o.Delta {
		mode = "delta"
	}
	cache := o.Cache
	if cache == "" {
		cache = "not stated"
	}
	return &Report{
		Mode: mode, Cache: cache, APIs: o.APIs, Proxies: o.Proxies, Slow: o.Slow, NACKing: o.NACKing,
		Edits: o.Edits, Seed: o.Seed, ProcSource: o.Proc.Source(),
	}
}

// procSample is RSS at one moment.
type procSample struct{ rss int64 }

func sample(p Proc) (procSample, error) {
	rss, err := p.RSS()
	return procSample{rss: rss}, err
}

func (r *Report) memory(base, loaded, connected procSample, o Options) {
	r.RSSBase, r.RSSLoaded, r.RSSConnected = base.rss, loaded.rss, connected.rss
	r.RSSPerAPI = (loaded.rss - base.rss) / int64(o.APIs)
	r.RSSPerProxy = (connected.rss - loaded.rss) / int64(o.Proxies)
}

func (r *Report) summarizeEdits() {
	var acked, seen, cpu []time.Duration
	var bytes []int64
	for _, e := range r.EditResults {
		acked = append(acked, e.ACKed)
		seen = append(seen, e.AllSeen)
		cpu = append(cpu, e.CPU)
		bytes = append(bytes, e.Bytes...)
	}
	r.ACKed, r.AllSeen, r.CPUPerEdit = summarize(acked), summarize(seen), summarize(cpu)
	r.BytesPerProxy = summarizeSizes(bytes)
}

func summarize(samples []time.Duration) Durations {
	if len(samples) == 0 {
		return Durations{}
	}
	s := slices.Sorted(slices.Values(samples))
	var sum time.Duration
	for _, v := range s {
		sum += v
	}
	return Durations{
		N: len(s), P50: rank(s, 50), P99: rank(s, 99), Max: s[len(s)-1], Min: s[0],
		Mean: sum / time.Duration(len(s)),
	}
}

func summarizeSizes(samples []int64) Sizes {
	if len(samples) == 0 {
		return Sizes{}
	}
	s := slices.Sorted(slices.Values(samples))
	var sum int64
	for _, v := range s {
		sum += v
	}
	return Sizes{N: len(s), P50: rank(s, 50), P99: rank(s, 99), Max: s[len(s)-1], Mean: sum / int64(len(s))}
}

// rank is the nearest-rank percentile p of sorted s.
func rank[T any](s []T, p int) T {
	i := (p*len(s)+99)/100 - 1
	return s[min(max(i, 0), len(s)-1)]
}
