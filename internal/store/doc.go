// Package store holds the desired state: every Gateway, Service, API, Policy
// and Secret, in a go-memdb database for consistent, indexed, watchable reads,
// backed by a durable Backend (an embedded bbolt file today) so nothing
// acknowledged is lost across restarts or crashes.
//
// # Write path
//
// Every write is a bundle of changes applied by Apply in one memdb write
// transaction, under one writer mutex:
//
//  1. every put object is validated (model.Validate), all violations at once;
//  2. preconditions are checked (If-Match or metadata.resourceVersion against
//     the stored version);
//  3. each change is classified created, updated, unchanged or deleted; an
//     object equal in labels, annotations and spec to the stored one is
//     unchanged, so re-applying a bundle bumps no revision;
//  4. the changes are written to the memdb transaction and referential
//     integrity is checked on the state the bundle would produce: a dangling
//     reference from a put object is a violation, one from an object outside
//     the bundle is a conflict naming the referrers;
//  5. the revision is incremented, every created or updated object gets
//     metadata.resourceVersion set to it, the records are committed to the
//     Backend (which fsyncs) and only then is the memdb transaction committed.
//
// Any failure aborts the memdb transaction, so the store is unchanged. The
// same transaction records which keys the bundle changed in a bounded change
// log (Reader.ChangesSince), so an incremental consumer sees a revision's
// changes exactly when it sees the revision.
//
// # Durability promise
//
// A write is acknowledged (Apply returns without error) only after the
// Backend has made it durable, and readers never see a state the Backend has
// not persisted. A bundle is atomic on disk as in memory: after a crash
// (kill -9, power loss) either all of it or none of it is there, and every
// acknowledged bundle is. A data file that is damaged is refused at Open with
// an error that names it, never loaded in part: OpenBolt walks the page
// structure and runs bbolt's consistency check, every value carries a
// CRC32-C, and a digest over all records catches records that vanished.
// Starting on partial data would have every proxy delete what is missing.
//
// One limit is bbolt's: it keeps two meta pages and falls back to the older
// one when the newer fails its checksum, which is what makes a torn write
// safe but also means damage to exactly the newest meta page reverts the
// file to the previous commit rather than being reported.
//
// # Reads
//
// Read returns a Reader over one consistent snapshot. Every accessor takes a
// memdb.WatchSet first (nil is allowed) so callers such as the translator can
// block until something they read has changed. Returned objects are shared
// with the store and with every other reader: they must not be modified;
// proto.Clone them first.
package store
