//go:build race

package integration

// raceEnabled builds the binary under test with -race when the tests run
// with -race, so data races in serve's goroutines fail the run too.
const raceEnabled = true
