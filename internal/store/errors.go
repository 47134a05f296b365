package store

import (
	"errors"
	"fmt"
	"strings"

	"tollgate.dev/tollgate/internal/model"
)

// ErrClosed is returned by Apply after Close: the backend is gone, so no
// write could be made durable.
var ErrClosed = errors.New("store is closed")

// Referrer is one object that references another, and the field that does.
// Conflicts list them so a user knows exactly what to change first.
type Referrer struct {
	Kind model.Kind `json:"kind"`
	Name string     `json:"name"`
	// Path is the referencing field inside the referrer
	// ("spec.routes[0].backends[0].service").
	Path string `json:"path"`
}

// String renders "Kind/name (path)", the form used in messages.
func (r Referrer) String() string {
	return fmt.Sprintf("%s/%s (%s)", r.Kind, r.Name, r.Path)
}

// ConflictReason is the machine-readable cause of a ConflictError.
type ConflictReason string

// The causes of a conflict. They are part of the admin API: add new ones,
// never rename.
const (
	// ReasonStale: a precondition named a resourceVersion that is no longer
	// the stored one; someone else changed the object since it was read.
	ReasonStale ConflictReason = "StaleResourceVersion"
	// ReasonReferenced: the write would leave objects outside the bundle
	// referencing something deleted or changed away (a route, a secret type).
	ReasonReferenced ConflictReason = "Referenced"
)

// ConflictError rejects a write that is valid on its own but conflicts with
// the stored state. Nothing was changed.
type ConflictError struct {
	Reason ConflictReason
	// Key is the object the conflict is about.
	Key model.Key
	// Referrers, for ReasonReferenced, are the references that would dangle.
	Referrers []Referrer
	// Message says what happened and what to do, for people.
	Message string
}

// Error returns the message.
func (e *ConflictError) Error() string { return e.Message }

func staleError(k model.Key, stored, expected string) *ConflictError {
	return &ConflictError{
		Reason: ReasonStale,
		Key:    k,
		Message: fmt.Sprintf("%s has resourceVersion %q but the request expected %q: it changed since it was read; "+
			"read it again and re-apply the change", k, stored, expected),
	}
}

func referencedError(k model.Key, refs []Referrer, details []string) *ConflictError {
	parts := make([]string, len(refs))
	for i, r := range refs {
		parts[i] = r.String()
		if details[i] != "" {
			parts[i] = fmt.Sprintf("%s/%s (%s: %s)", r.Kind, r.Name, r.Path, details[i])
		}
	}
	return &ConflictError{
		Reason:    ReasonReferenced,
		Key:       k,
		Referrers: refs,
		Message:   fmt.Sprintf("%s is still referenced by %s; remove those references first", k, strings.Join(parts, ", ")),
	}
}

// NotFoundError reports a delete, or a write with a precondition, aimed at an
// object that does not exist.
type NotFoundError struct {
	Key model.Key
}

// Error names the missing object.
func (e *NotFoundError) Error() string { return e.Key.String() + " not found" }
