// Package localdir is the local/declarative mode: the definitions live as
// YAML or JSON files in a directory (GitOps), and the store is made to be
// exactly that directory.
//
// Every load decodes and validates all files; only when the whole set is
// valid is it applied, as one store.Apply with Replace, so the store moves
// from one complete set to the next and never holds half of an edit. A
// broken file leaves the last good set in force and is reported, with the
// file and field path, in the log and in Status (served by the admin API at
// GET /v1/status). The directory is watched with fsnotify and bursts of
// events are coalesced before reloading.
package localdir
