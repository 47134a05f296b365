// Command controlplane is the Tollgate control plane server (serve) and its
// command-line client (apply, get, delete, validate, version). It only wires
// packages together: settings come from internal/config, definitions are
// kept by internal/store and served by internal/admin, files are followed
// by internal/localdir, and the client commands speak to a server through
// internal/client. Each command is built by a constructor taking an env, so
// tests run whole command lines in-process.
package main
