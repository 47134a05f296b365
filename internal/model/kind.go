package model

import (
	"fmt"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"

	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// APIVersion is the only apiVersion this release accepts.
const APIVersion = "tollgate.dev/v1"

// Kind names one object type of the model.
type Kind string

// The kinds of the model.
const (
	KindGateway Kind = "Gateway"
	KindService Kind = "Service"
	KindAPI     Kind = "API"
	KindPolicy  Kind = "Policy"
	KindSecret  Kind = "Secret"
)

// Kinds lists every kind in dependency order: an object only references
// kinds listed before it, which is the order a bundle is best applied and
// listed in.
var Kinds = []Kind{KindSecret, KindService, KindGateway, KindAPI, KindPolicy}

// Object is any top-level object of the model. Every generated kind message
// satisfies it.
type Object interface {
	proto.Message
	GetApiVersion() string
	GetKind() string
	GetMetadata() *tollgatev1.ObjectMeta
}

// Validate reports whether k is a known kind.
func (k Kind) Validate() error {
	for _, known := range Kinds {
		if k == known {
			return nil
		}
	}
	return fmt.Errorf("unknown kind %q: must be one of %s", string(k), kindList())
}

// Plural is the lower-case collection name used in URLs (/v1/apis).
func (k Kind) Plural() string {
	switch k {
	case KindPolicy:
		return "policies"
	default:
		return strings.ToLower(string(k)) + "s"
	}
}

// New returns an empty object of kind k, or nil for an unknown kind.
func (k Kind) New() Object {
	switch k {
	case KindGateway:
		return &tollgatev1.Gateway{}
	case KindService:
		return &tollgatev1.Service{}
	case KindAPI:
		return &tollgatev1.API{}
	case KindPolicy:
		return &tollgatev1.Policy{}
	case KindSecret:
		return &tollgatev1.Secret{}
	default:
		return nil
	}
}

// ParseKind accepts a kind by its name ("API"), its plural ("apis") or its
// lower-case singular ("api"), as the CLI and URLs use them.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if s == string(k) || strings.EqualFold(s, string(k)) || strings.EqualFold(s, k.Plural()) {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown kind %q: must be one of %s", s, kindList())
}

func kindList() string {
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// KindOf returns the kind of o from its Go type (not from the possibly
// user-supplied kind field).
func KindOf(o Object) Kind {
	switch o.(type) {
	case *tollgatev1.Gateway:
		return KindGateway
	case *tollgatev1.Service:
		return KindService
	case *tollgatev1.API:
		return KindAPI
	case *tollgatev1.Policy:
		return KindPolicy
	case *tollgatev1.Secret:
		return KindSecret
	default:
		return ""
	}
}

// Key identifies an object: its kind and name.
type Key struct {
	Kind Kind   `json:"kind"`
	Name string `json:"name"`
}

// String renders the key as "Kind/name", the form used in messages.
func (k Key) String() string { return string(k.Kind) + "/" + k.Name }

// KeyOf returns the key of o.
func KeyOf(o Object) Key {
	return Key{Kind: KindOf(o), Name: o.GetMetadata().GetName()}
}
