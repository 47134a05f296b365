package xds

import "time"

// SetSyncSlotTimeout shortens the admission slot timeout for a test and
// returns the function restoring it.
func SetSyncSlotTimeout(d time.Duration) (restore func()) {
	old := syncSlotTimeout
	syncSlotTimeout = d
	return func() { syncSlotTimeout = old }
}
