// Package integration holds end-to-end tests of the controlplane binary:
// it is built once and run as real child processes (serve plus the CLI),
// talking over 127.0.0.1 only, so what is tested is what a user runs,
// including signal handling, logs and exit codes.
package integration
