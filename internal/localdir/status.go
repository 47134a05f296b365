package localdir

import (
	"fmt"
	"slices"
	"time"
)

// Status is what the directory mode has done, served by the admin API under
// "configDir" in GET /v1/status so an operator can see at once whether the
// files on disk are what the proxies get.
type Status struct {
	// Dir is the watched directory.
	Dir string `json:"dir"`
	// LastAppliedRevision is the store revision after the last successful
	// load; 0 until one succeeds.
	LastAppliedRevision uint64 `json:"lastAppliedRevision"`
	// LastAppliedAt is when the set in force was applied; null until then.
	LastAppliedAt *time.Time `json:"lastAppliedAt"`
	// Files are the files of the set in force.
	Files []string `json:"files"`
	// LastError is why the latest load was not applied; null when the
	// directory as it is now is in force.
	LastError *LoadError `json:"lastError"`
	// InForce says in words which set the store holds.
	InForce string `json:"inForce"`
}

// LoadError is a load that was not applied.
type LoadError struct {
	// At is when the load was attempted.
	At time.Time `json:"at"`
	// Message summarises what went wrong.
	Message string `json:"message"`
	// Violations are the problems, each located in its file.
	Violations []Violation `json:"violations,omitempty"`
}

// same reports whether e repeats other, so an unchanged broken file that
// keeps producing events (an editor saving its swap file) is logged once.
func (e *LoadError) same(other *LoadError) bool {
	return e != nil && other != nil && e.Message == other.Message && slices.Equal(e.Violations, other.Violations)
}

// clone deep-copies s so callers can keep or encode it while loads go on.
func (s Status) clone() Status {
	c := s
	c.Files = slices.Clone(s.Files)
	if s.LastAppliedAt != nil {
		at := *s.LastAppliedAt
		c.LastAppliedAt = &at
	}
	if s.LastError != nil {
		e := *s.LastError
		e.Violations = slices.Clone(s.LastError.Violations)
		c.LastError = &e
	}
	return c
}

// inForce describes the set in force after a load.
func (s Status) inForce(storeRevision uint64) string {
	switch {
	case s.LastAppliedAt == nil:
		return fmt.Sprintf("none: no valid set has been applied from this directory since start-up; "+
			"the store keeps what it held (revision %d)", storeRevision)
	case s.LastError != nil:
		return "last good set from " + s.LastAppliedAt.Format(time.RFC3339)
	default:
		return "the directory as loaded at " + s.LastAppliedAt.Format(time.RFC3339)
	}
}
