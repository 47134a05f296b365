package store

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/hashicorp/go-memdb"
	"google.golang.org/protobuf/proto"

	"tollgate.dev/tollgate/internal/model"
)

// Op is what a Change does.
type Op int

// The operations of a Change.
const (
	// OpPut creates or replaces an object.
	OpPut Op = iota
	// OpDelete removes an object.
	OpDelete
)

// Change is one element of a bundle.
type Change struct {
	Op Op
	// Object is the object to put (OpPut). It is never modified: the store
	// keeps a clone with metadata.resourceVersion set.
	Object model.Object
	// Key names the object to delete (OpDelete).
	Key model.Key
	// IfMatch is the resourceVersion the stored object must have ("" for no
	// check). For puts, when it is empty, Object's metadata.resourceVersion
	// is the precondition if set, so re-applying what a read returned fails
	// rather than silently overwrites someone else's change.
	IfMatch string
	// Document is the 1-based position in the bundle the change came from;
	// it is copied into every Violation about it.
	Document int
}

// ApplyOptions tune Apply.
type ApplyOptions struct {
	// DryRun runs every check and reports what would happen, changing nothing.
	DryRun bool
	// Replace makes the changes the whole desired state: every stored object
	// not put by them is deleted (local, declarative mode).
	Replace bool
}

// Action is what Apply did, or would do, to one object.
type Action string

// The actions of an ObjectResult.
const (
	ActionCreated   Action = "created"
	ActionUpdated   Action = "updated"
	ActionUnchanged Action = "unchanged"
	ActionDeleted   Action = "deleted"
)

// ObjectResult is the outcome for one object.
type ObjectResult struct {
	Kind   model.Kind `json:"kind"`
	Name   string     `json:"name"`
	Action Action     `json:"action"`
	// ResourceVersion is the object's version after the apply (the stored
	// one when unchanged); empty for deletions.
	ResourceVersion string `json:"resourceVersion,omitempty"`
}

// Result is the outcome of Apply.
type Result struct {
	// Revision is the store revision after the apply (for a dry run, the one
	// it would get); unchanged when nothing changed.
	Revision uint64 `json:"revision"`
	// Changed is false when every object was unchanged.
	Changed bool `json:"changed"`
	DryRun  bool `json:"dryRun"`
	// Objects are in input order; deletions implied by Replace follow,
	// sorted by kind (model.Kinds order) then name.
	Objects []ObjectResult `json:"objects"`
}

// Apply applies a bundle of changes atomically: all of them or, on any
// error, none. Errors are model.Violations (invalid objects or dangling
// references from them, every one found), *ConflictError (stale
// precondition, or objects outside the bundle still referencing what it
// removes), *NotFoundError (deleting, or preconditioning on, a missing
// object), or an internal error (including a failed durable commit). When
// Apply returns nil and Result.Changed, the new state is on stable storage.
func (s *Store) Apply(ctx context.Context, changes []Change, opts ApplyOptions) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	// Validation needs no state, so it runs before the lock: parsing a
	// bundle of certificates does not hold up other writers.
	if vs := validateChanges(changes); len(vs) > 0 {
		return Result{}, vs
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Result{}, ErrClosed
	}
	txn := s.db.Txn(true)
	defer txn.Abort() // a no-op after Commit
	a, err := plan(txn, changes, opts.Replace)
	if err != nil {
		return Result{}, err
	}
	if err := a.write(); err != nil {
		return Result{}, err
	}
	if err := a.checkIntegrity(); err != nil {
		return Result{}, err
	}
	res := a.result(opts.DryRun)
	if !res.Changed || opts.DryRun {
		return res, nil
	}
	c, err := a.commitRecords()
	if err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	if err := s.backend.Commit(c); err != nil {
		return Result{}, fmt.Errorf("commit revision %d: %w", c.Revision, err)
	}
	txn.Commit()
	return res, nil
}

// validateChanges checks every change on its own: objects against the model,
// delete keys, and no object twice in one bundle.
func validateChanges(changes []Change) model.Violations {
	var vs model.Violations
	seen := map[model.Key]int{}
	for i, c := range changes {
		doc := c.Document
		if doc == 0 {
			doc = i + 1
		}
		var k model.Key
		switch c.Op {
		case OpPut:
			if c.Object == nil {
				vs = append(vs, model.Violation{Document: c.Document, Message: "a put needs an object"})
				continue
			}
			for _, v := range model.Validate(c.Object) {
				v.Document = c.Document
				vs = append(vs, v)
			}
			k = model.KeyOf(c.Object)
		case OpDelete:
			k = c.Key
			if v, bad := checkDeleteKey(k, c.Document); bad {
				vs = append(vs, v)
				continue
			}
		default:
			vs = append(vs, model.Violation{Document: c.Document, Message: fmt.Sprintf("unknown operation %d", c.Op)})
			continue
		}
		if first, dup := seen[k]; dup && k.Name != "" && k.Kind != "" {
			vs = append(vs, model.Violation{
				Document: c.Document, Object: k.String(), Path: "metadata.name",
				Message: fmt.Sprintf("%s appears twice in this bundle (documents %d and %d); keep one", k, first, doc),
			})
			continue
		}
		seen[k] = doc
	}
	return vs
}

func checkDeleteKey(k model.Key, doc int) (model.Violation, bool) {
	if err := k.Kind.Validate(); err != nil {
		return model.Violation{Document: doc, Object: k.String(), Path: "kind", Message: err.Error()}, true
	}
	if msg := model.ValidateName(k.Name); msg != "" {
		return model.Violation{Document: doc, Object: k.String(), Path: "metadata.name", Message: msg}, true
	}
	return model.Violation{}, false
}

// step is one planned change to one object.
type step struct {
	key    model.Key
	table  string
	doc    int
	put    model.Object // the caller's object, for puts
	old    model.Object // the stored object; nil when created
	action Action
	stored model.Object // what is written for created and updated objects
}

// applier carries one Apply through its write transaction.
type applier struct {
	txn      *memdb.Txn
	rev      uint64 // the revision before the apply
	steps    []*step
	inBundle map[model.Key]bool // every key the bundle puts or deletes
}

// plan reads the stored state, checks preconditions and classifies every
// change; with replace it adds the deletion of everything not put.
func plan(txn *memdb.Txn, changes []Change, replace bool) (*applier, error) {
	rev, err := revisionOf(txn)
	if err != nil {
		return nil, err
	}
	a := &applier{txn: txn, rev: rev, inBundle: make(map[model.Key]bool, len(changes))}
	for _, c := range changes {
		st, err := a.prepare(c)
		if err != nil {
			return nil, err
		}
		a.steps = append(a.steps, st)
		a.inBundle[st.key] = true
	}
	if replace {
		if err := a.planReplace(); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (a *applier) prepare(c Change) (*step, error) {
	st := &step{key: c.Key, doc: c.Document, put: c.Object}
	expected := c.IfMatch
	if c.Op == OpPut {
		st.key = model.KeyOf(c.Object)
		if expected == "" {
			expected = c.Object.GetMetadata().GetResourceVersion()
		}
	}
	table, err := tableOf(st.key.Kind)
	if err != nil {
		return nil, err
	}
	st.table = table
	raw, err := a.txn.First(table, indexID, st.key.Name)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", st.key, err)
	}
	if raw != nil {
		st.old = raw.(model.Object)
	}
	if st.old == nil && (c.Op == OpDelete || expected != "") {
		return nil, &NotFoundError{Key: st.key}
	}
	if expected != "" {
		if stored := st.old.GetMetadata().GetResourceVersion(); expected != stored {
			return nil, staleError(st.key, stored, expected)
		}
	}
	switch {
	case c.Op == OpDelete:
		st.action = ActionDeleted
	case st.old == nil:
		st.action = ActionCreated
	case sameContent(st.old, c.Object):
		st.action = ActionUnchanged
	default:
		st.action = ActionUpdated
	}
	return st, nil
}

// planReplace deletes every stored object the bundle does not mention, in
// model.Kinds order then name order.
func (a *applier) planReplace() error {
	r := &Reader{txn: a.txn}
	for _, k := range model.Kinds {
		objs, err := r.List(nil, k)
		if err != nil {
			return err
		}
		table, _ := tableOf(k) // k comes from model.Kinds
		for _, o := range objs {
			key := model.KeyOf(o)
			// Objects the control plane manages (its CA's Secrets) are not
			// part of any user's desired state, so replacing it keeps them.
			if !a.inBundle[key] && !strings.HasPrefix(key.Name, model.ReservedNamePrefix) {
				a.steps = append(a.steps, &step{key: key, table: table, old: o, action: ActionDeleted})
			}
		}
	}
	return nil
}

// sameContent reports whether a put would change nothing: labels,
// annotations and spec equal. The resourceVersion is deliberately ignored;
// it is a precondition, not content.
func sameContent(stored, put model.Object) bool {
	ms, mp := stored.GetMetadata(), put.GetMetadata()
	return maps.Equal(ms.GetLabels(), mp.GetLabels()) &&
		maps.Equal(ms.GetAnnotations(), mp.GetAnnotations()) &&
		proto.Equal(specOf(stored), specOf(put))
}

// specOf returns the spec message of any kind, or nil when unset.
func specOf(o model.Object) proto.Message {
	m := o.ProtoReflect()
	fd := m.Descriptor().Fields().ByName("spec")
	if fd == nil || !m.Has(fd) {
		return nil
	}
	return m.Get(fd).Message().Interface()
}

// newVersion is the resourceVersion objects changed by this apply get.
func (a *applier) newVersion() string { return strconv.FormatUint(a.rev+1, 10) }

// write makes the planned changes in the memdb transaction, storing clones
// of the callers' objects with their new resourceVersion.
func (a *applier) write() error {
	for _, st := range a.steps {
		switch st.action {
		case ActionCreated, ActionUpdated:
			c := proto.Clone(st.put).(model.Object)
			c.GetMetadata().ResourceVersion = a.newVersion()
			st.stored = c
			if err := insert(a.txn, c); err != nil {
				return err
			}
		case ActionDeleted:
			if err := a.txn.Delete(st.table, st.old); err != nil {
				return fmt.Errorf("delete %s in memory: %w", st.key, err)
			}
		}
	}
	return nil
}

// result reports the planned actions.
func (a *applier) result(dryRun bool) Result {
	res := Result{Revision: a.rev, DryRun: dryRun, Objects: make([]ObjectResult, 0, len(a.steps))}
	for _, st := range a.steps {
		or := ObjectResult{Kind: st.key.Kind, Name: st.key.Name, Action: st.action}
		switch st.action {
		case ActionCreated, ActionUpdated:
			or.ResourceVersion = a.newVersion()
			res.Changed = true
		case ActionUnchanged:
			or.ResourceVersion = st.old.GetMetadata().GetResourceVersion()
		case ActionDeleted:
			res.Changed = true
		}
		res.Objects = append(res.Objects, or)
	}
	if res.Changed {
		res.Revision = a.rev + 1
	}
	return res
}

// commitRecords records the new revision and its change log row in the
// transaction and returns the backend commit for the bundle.
func (a *applier) commitRecords() (Commit, error) {
	c := Commit{Revision: a.rev + 1}
	var changed []model.Key
	for _, st := range a.steps {
		switch st.action {
		case ActionCreated, ActionUpdated:
			b, err := proto.MarshalOptions{Deterministic: true}.Marshal(st.stored)
			if err != nil {
				return Commit{}, fmt.Errorf("encode %s: %w", st.key, err)
			}
			c.Put = append(c.Put, Record{Kind: st.key.Kind, Name: st.key.Name, Value: b})
			changed = append(changed, st.key)
		case ActionDeleted:
			c.Delete = append(c.Delete, st.key)
			changed = append(changed, st.key)
		}
	}
	if err := a.txn.Insert(tableMeta, &metaRow{ID: metaRevision, Revision: c.Revision}); err != nil {
		return Commit{}, fmt.Errorf("store revision in memory: %w", err)
	}
	if err := recordChanges(a.txn, c.Revision, changed); err != nil {
		return Commit{}, err
	}
	return c, nil
}
