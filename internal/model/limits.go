package model

import "sort"

// Limits on the size of one object. They keep a single definition from
// costing the translator or the proxies unbounded work; each is reported
// with its value when exceeded.
const (
	MaxLabels          = 64
	MaxAnnotationBytes = 64 * 1024
)

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
