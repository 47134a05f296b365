package admin

import (
	"fmt"
	"strings"

	"tollgate.dev/tollgate/internal/model"
)

// reserved refuses writes to the objects the control plane manages itself
// (model.ReservedNamePrefix: the CA bundle and the gateway identity
// Secrets). A user who could write them could plant a certificate that
// gateways trust as a peer's identity, or delete one from under its
// proxies; the CA rewrites them anyway.
func reserved(doc int, key model.Key) model.Violations {
	if !strings.HasPrefix(key.Name, model.ReservedNamePrefix) {
		return nil
	}
	return model.Violations{{
		Document: doc, Object: key.String(), Path: "metadata.name",
		Message: fmt.Sprintf("names starting with %q are managed by the control plane (its CA's trust bundle and gateway identities); choose another name",
			model.ReservedNamePrefix),
	}}
}
