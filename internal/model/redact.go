package model

import (
	"google.golang.org/protobuf/proto"

	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// Redact returns a copy of o without its write-only fields: Secret private
// keys, API keys and basic-auth password hashes. Every read path (admin API,
// CLI, logs) goes through it; the stored object keeps the values because the
// proxies need them.
func Redact(o Object) Object {
	if !HasWriteOnly(o) {
		return o
	}
	c := proto.Clone(o).(Object)
	switch c := c.(type) {
	case *tollgatev1.Secret:
		c.GetSpec().PrivateKey = ""
	case *tollgatev1.Policy:
		for _, k := range c.GetSpec().GetApiKey().GetConsumers() {
			k.Key = ""
		}
		for _, u := range c.GetSpec().GetBasicAuth().GetUsers() {
			u.PasswordHash = ""
		}
	}
	return c
}

// HasWriteOnly reports whether o carries any value Redact would remove.
func HasWriteOnly(o Object) bool {
	switch o := o.(type) {
	case *tollgatev1.Secret:
		return o.GetSpec().GetPrivateKey() != ""
	case *tollgatev1.Policy:
		return o.GetSpec().GetApiKey() != nil || o.GetSpec().GetBasicAuth() != nil
	}
	return false
}
