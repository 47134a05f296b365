package model

import (
	"time"

	tollgatev1 "tollgate.dev/tollgate/proto/tollgate/v1"
)

// Placeholders until the per-kind validators land (validate_<kind>.go).
func validateGateway(e *Errs, s *tollgatev1.GatewaySpec)              {}
func validateService(e *Errs, s *tollgatev1.ServiceSpec)              {}
func validateAPI(e *Errs, s *tollgatev1.APISpec)                      {}
func validatePolicy(e *Errs, s *tollgatev1.PolicySpec)                {}
func validateSecret(e *Errs, s *tollgatev1.SecretSpec, now time.Time) {}
