package admin

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"tollgate.dev/tollgate/internal/model"
	"tollgate.dev/tollgate/internal/store"
)

// apply handles POST /v1/apply: every document of the body is one change of
// a single atomic bundle.
func (s *Server) apply(w http.ResponseWriter, r *http.Request) error {
	dryRun, err := dryRunParam(r)
	if err != nil {
		return err
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	docs, vs := model.ValidateBundle(body)
	if len(vs) > 0 {
		return vs
	}
	if len(docs) == 0 {
		return newError(http.StatusBadRequest, ReasonBadRequest, "the bundle holds no objects; send one or more objects as YAML or JSON")
	}
	changes := make([]store.Change, len(docs))
	var refused model.Violations
	for i, d := range docs {
		changes[i] = store.Change{Op: store.OpPut, Object: d.Object, Document: d.Number}
		refused = append(refused, reserved(d.Number, model.KeyOf(d.Object))...)
	}
	if len(refused) > 0 {
		return refused
	}
	for _, d := range docs {
		noteObjects(r, model.KeyOf(d.Object).String())
	}
	res, err := s.st.Apply(r.Context(), changes, store.ApplyOptions{DryRun: dryRun})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// list handles GET /v1/{kind}.
func (s *Server) list(w http.ResponseWriter, r *http.Request) error {
	kind, err := kindParam(r)
	if err != nil {
		return err
	}
	sel, err := parseSelector(r.URL.Query().Get("labelSelector"))
	if err != nil {
		return err
	}
	rd := s.st.Read()
	objs, err := rd.List(nil, kind)
	if err != nil {
		return err
	}
	items := make([]json.RawMessage, 0, len(objs))
	for _, o := range objs {
		if !sel.matches(o.GetMetadata().GetLabels()) {
			continue
		}
		b, err := model.MarshalJSON(model.Redact(o))
		if err != nil {
			return err
		}
		items = append(items, b)
	}
	writeJSON(w, http.StatusOK, listBody{Kind: string(kind) + "List", Revision: rd.Revision(), Items: items})
	return nil
}

// listBody is the answer of GET /v1/{kind}.
type listBody struct {
	Kind     string            `json:"kind"`
	Revision uint64            `json:"revision"`
	Items    []json.RawMessage `json:"items"`
}

// get handles GET /v1/{kind}/{name}.
func (s *Server) get(w http.ResponseWriter, r *http.Request) error {
	key, err := keyParam(r)
	if err != nil {
		return err
	}
	o, err := s.st.Read().Get(nil, key)
	if err != nil {
		return err
	}
	if o == nil {
		return &store.NotFoundError{Key: key}
	}
	return writeObject(w, http.StatusOK, o)
}

// put handles PUT /v1/{kind}/{name}: create or replace one object.
func (s *Server) put(w http.ResponseWriter, r *http.Request) error {
	key, err := keyParam(r)
	if err != nil {
		return err
	}
	dryRun, err := dryRunParam(r)
	if err != nil {
		return err
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	o, err := decodeOne(body, key)
	if err != nil {
		return err
	}
	if vs := reserved(1, key); vs != nil {
		return vs
	}
	im, err := ifMatch(r)
	if err != nil {
		return err
	}
	change := store.Change{Op: store.OpPut, Object: o, IfMatch: im, Document: 1}
	res, err := s.st.Apply(r.Context(), []store.Change{change}, store.ApplyOptions{DryRun: dryRun})
	if err != nil {
		return err
	}
	code := http.StatusOK
	if len(res.Objects) == 1 && res.Objects[0].Action == store.ActionCreated {
		code = http.StatusCreated
	}
	if dryRun || !res.Changed {
		// Show what would be (or is) stored without reading a state the
		// dry run never produced.
		c := proto.Clone(o).(model.Object)
		if len(res.Objects) == 1 {
			c.GetMetadata().ResourceVersion = res.Objects[0].ResourceVersion
		}
		return writeObject(w, code, c)
	}
	stored, err := s.st.Read().Get(nil, key)
	if err != nil {
		return err
	}
	if stored == nil { // deleted by a concurrent writer since
		return &store.NotFoundError{Key: key}
	}
	return writeObject(w, code, stored)
}

// delete handles DELETE /v1/{kind}/{name}.
func (s *Server) delete(w http.ResponseWriter, r *http.Request) error {
	key, err := keyParam(r)
	if err != nil {
		return err
	}
	dryRun, err := dryRunParam(r)
	if err != nil {
		return err
	}
	if vs := reserved(0, key); vs != nil {
		return vs
	}
	im, err := ifMatch(r)
	if err != nil {
		return err
	}
	change := store.Change{Op: store.OpDelete, Key: key, IfMatch: im}
	res, err := s.st.Apply(r.Context(), []store.Change{change}, store.ApplyOptions{DryRun: dryRun})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

// statusBody is the answer of GET /v1/status.
type statusBody struct {
	Revision  uint64 `json:"revision"`
	Mode      string `json:"mode"`
	ReadOnly  string `json:"readOnly,omitempty"`
	ConfigDir any    `json:"configDir,omitempty"`
}

func (s *Server) status(w http.ResponseWriter, _ *http.Request) error {
	b := statusBody{Revision: s.st.Revision(), Mode: "api", ReadOnly: s.opts.ReadOnly}
	if s.opts.Status != nil {
		b.Mode = "directory"
		b.ConfigDir = s.opts.Status()
	}
	writeJSON(w, http.StatusOK, b)
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) error {
	if s.opts.Ready != nil && !s.opts.Ready() {
		return newError(http.StatusServiceUnavailable, ReasonNotReady, "not ready: the store is still loading")
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "revision": s.st.Revision()})
	return nil
}

func (s *Server) openAPI(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(s.openapi)
	return nil
}

// decodeOne decodes a PUT body: exactly one object of the URL's kind and
// name (a missing name is taken from the URL).
func decodeOne(body []byte, key model.Key) (model.Object, error) {
	objs, vs := model.Decode(body)
	if len(vs) > 0 {
		return nil, vs
	}
	if len(objs) != 1 {
		return nil, newError(http.StatusBadRequest, ReasonBadRequest, "PUT takes exactly one object, got %d; use POST /v1/apply for bundles", len(objs))
	}
	o := objs[0]
	if k := model.KindOf(o); k != key.Kind {
		return nil, model.Violations{{Object: model.KeyOf(o).String(), Path: "kind", Message: "must be " + strconv.Quote(string(key.Kind)) + " to match the URL /v1/" + key.Kind.Plural()}}
	}
	if o.GetMetadata() == nil {
		return nil, model.Violations{{Object: key.String(), Path: "metadata.name", Message: "required"}}
	}
	if n := o.GetMetadata().GetName(); n == "" {
		o.GetMetadata().Name = key.Name
	} else if n != key.Name {
		return nil, model.Violations{{Object: model.KeyOf(o).String(), Path: "metadata.name", Message: "must be " + strconv.Quote(key.Name) + " to match the URL"}}
	}
	if vs := model.Validate(o); len(vs) > 0 {
		for i := range vs {
			vs[i].Document = 1
		}
		return nil, vs
	}
	return o, nil
}

func writeObject(w http.ResponseWriter, code int, o model.Object) error {
	b, err := model.MarshalJSON(model.Redact(o))
	if err != nil {
		return err
	}
	if rv := o.GetMetadata().GetResourceVersion(); rv != "" {
		w.Header().Set("ETag", strconv.Quote(rv))
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	// JSON with nosniff: not rendered as HTML, so no XSS.
	_, _ = w.Write(append(b, '\n')) //nolint:gosec // G705: see above
	return nil
}

func kindParam(r *http.Request) (model.Kind, error) {
	k, err := model.ParseKind(r.PathValue("kind"))
	if err != nil || r.PathValue("kind") != k.Plural() {
		return "", newError(http.StatusNotFound, ReasonNotFound, "unknown collection %q: use one of %s", r.PathValue("kind"), collections())
	}
	return k, nil
}

func keyParam(r *http.Request) (model.Key, error) {
	k, err := kindParam(r)
	if err != nil {
		return model.Key{}, err
	}
	name := r.PathValue("name")
	if msg := model.ValidateName(name); msg != "" {
		return model.Key{}, newError(http.StatusBadRequest, ReasonInvalid, "name in the URL: %s", msg)
	}
	return model.Key{Kind: k, Name: name}, nil
}

func collections() string {
	names := make([]string, len(model.Kinds))
	for i, k := range model.Kinds {
		names[i] = k.Plural()
	}
	return strings.Join(names, ", ")
}

func dryRunParam(r *http.Request) (bool, error) {
	v := r.URL.Query().Get("dryRun")
	switch v {
	case "":
		return false, nil
	case "true", "1", "All", "all":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, newError(http.StatusBadRequest, ReasonBadRequest, "dryRun must be true or false, got %q", v)
}

// ifMatch reads an If-Match precondition: `"5"`, `W/"5"` or `5`, the
// resourceVersion the client last read.
func ifMatch(r *http.Request) (string, error) {
	raw := strings.TrimSpace(r.Header.Get("If-Match"))
	v := strings.Trim(strings.TrimPrefix(raw, "W/"), `"`)
	if v == "" {
		return "", nil
	}
	if _, err := strconv.ParseUint(v, 10, 64); err != nil {
		return "", newError(http.StatusBadRequest, ReasonBadRequest, "If-Match must be a resourceVersion the server returned (ETag), got %q", raw)
	}
	return v, nil
}
