package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	"tollgate.dev/tollgate/internal/model"
)

func TestPersistenceAcrossRestart(t *testing.T) {
	st, path := newStore(t)
	mustApply(t, st, puts(append(baseObjects(), caSecret("upstream-ca"), tlsSecret("edge-cert"))...), ApplyOptions{})
	mustApply(t, st, puts(tlsService("billing", "upstream-ca"), api("billing", []string{"edge"}, "billing")), ApplyOptions{})
	mustApply(t, st, puts(tweak(service("orders")), policy("slow", model.KindAPI, "shop", "r1")), ApplyOptions{})
	mustApply(t, st, []Change{del(model.KindAPI, "billing"), del(model.KindSecret, "edge-cert")}, ApplyOptions{})
	mustApply(t, st, puts(service("spare")), ApplyOptions{})
	mustApply(t, st, puts(service("spare")), ApplyOptions{}) // unchanged: no revision
	want, rev := dump(t, st), st.Revision()
	require.Equal(t, uint64(5), rev)
	require.NoError(t, st.Close())

	st = openStore(t, path)
	require.Equal(t, rev, st.Revision())
	got := dump(t, st)
	requireSameState(t, want, got)
	versions := map[string]string{}
	for _, o := range got {
		versions[model.KeyOf(o).String()] = o.GetMetadata().GetResourceVersion()
	}
	require.Equal(t, map[string]string{
		"Secret/upstream-ca": "1", "Service/billing": "2", "Service/orders": "3", "Service/spare": "5",
		"Gateway/edge": "1", "API/shop": "1", "Policy/slow": "3",
	}, versions)

	// Indexes are rebuilt, and numbering continues.
	refs, err := st.Read().Referrers(nil, model.Key{Kind: model.KindService, Name: "orders"})
	require.NoError(t, err)
	require.Len(t, refs, 1)
	res := mustApply(t, st, []Change{del(model.KindService, "spare")}, ApplyOptions{})
	require.Equal(t, rev+1, res.Revision)
}

func TestOpenBoltCreatesPrivateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	b, err := OpenBolt(filepath.Join(dir, "store.db"))
	require.NoError(t, err)
	defer b.Close()
	di, err := os.Stat(dir)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), di.Mode().Perm())
	fi, err := os.Stat(filepath.Join(dir, "store.db"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file is left behind")
}

func TestSecondOpenFailsFast(t *testing.T) {
	st, path := newStore(t)
	_ = st
	start := time.Now()
	b, err := OpenBolt(path)
	if b != nil {
		_ = b.Close()
	}
	require.ErrorIs(t, err, ErrLocked)
	require.Contains(t, err.Error(), fmt.Sprintf("data file %q is locked by another process", path))
	require.Less(t, time.Since(start), 5*time.Second)
}

// goodFile writes a data file with enough objects to span many pages and
// returns its path, the state it holds and its revision.
func goodFile(t *testing.T) (path string, state []model.Object, rev uint64) {
	t.Helper()
	st, path := newStore(t)
	mustApply(t, st, puts(baseObjects()...), ApplyOptions{})
	for i := range 8 {
		var objs []model.Object
		for j := range 25 {
			s := service(fmt.Sprintf("svc-%d-%d", i, j))
			s.Metadata.Annotations = map[string]string{"note": fmt.Sprintf("marker-%d-%d-%s", i, j, bytes.Repeat([]byte("x"), 200))}
			objs = append(objs, s)
		}
		mustApply(t, st, puts(objs...), ApplyOptions{})
	}
	mustApply(t, st, []Change{del(model.KindService, "svc-0-0"), del(model.KindService, "svc-1-1")}, ApplyOptions{})
	state, rev = dump(t, st), st.Revision()
	require.NoError(t, st.Close())
	return path, state, rev
}

// copyFile copies src to a new file in a fresh directory.
func copyFile(t *testing.T, src string) string {
	t.Helper()
	data, err := os.ReadFile(src)
	require.NoError(t, err)
	dst := filepath.Join(t.TempDir(), "store.db")
	require.NoError(t, os.WriteFile(dst, data, 0o600))
	return dst
}

// openForTest opens a store the way the control plane does.
func openForTest(path string) (*Store, error) {
	b, err := OpenBolt(path)
	if err != nil {
		return nil, err
	}
	return Open(b)
}

func requireCorrupt(t *testing.T, path string, err error, want string) {
	t.Helper()
	require.Error(t, err)
	var ce *CorruptError
	require.ErrorAs(t, err, &ce, "%v", err)
	msg := err.Error()
	require.Contains(t, msg, fmt.Sprintf("open data file %q: file is corrupt (", path))
	require.Contains(t, msg, "restore the file from a backup or move it aside to start empty")
	require.Contains(t, msg, want)
}

func TestCorruptFileIsRefused(t *testing.T) {
	good, _, _ := goodFile(t)
	ps := int64(os.Getpagesize())
	rng := rand.New(rand.NewPCG(1, 2))
	randomize := func(b []byte) {
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
	}
	tests := []struct {
		name   string
		damage func(t *testing.T, data []byte) []byte
		want   string
	}{
		{"truncated to half", func(_ *testing.T, d []byte) []byte { return d[:len(d)/2] }, "truncated"},
		{"truncated to 1000 bytes", func(_ *testing.T, d []byte) []byte { return d[:1000] }, "too short"},
		{"truncated to nothing", func(_ *testing.T, d []byte) []byte { return nil }, "the file is empty"},
		{"not a bolt file", func(_ *testing.T, d []byte) []byte {
			return bytes.Repeat([]byte("this is not a data file\n"), len(d)/24)
		}, "invalid database"},
		{"both meta pages zeroed", func(_ *testing.T, d []byte) []byte { clear(d[:2*ps]); return d }, "invalid database"},
		{"random bytes over every data page header", func(_ *testing.T, d []byte) []byte {
			for off := 2 * ps; off < int64(len(d)); off += ps {
				randomize(d[off : off+32])
			}
			return d
		}, "page"},
		{"every data page random", func(_ *testing.T, d []byte) []byte { randomize(d[2*ps:]); return d }, "page"},
		{"random bytes inside a stored value", func(t *testing.T, d []byte) []byte {
			at := bytes.Index(d, []byte("marker-3-7-"))
			require.Positive(t, at)
			randomize(d[at : at+16])
			return d
		}, "checksum mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := copyFile(t, good)
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(path, tt.damage(t, data), 0o600))
			st, err := openForTest(path)
			if st != nil {
				_ = st.Close()
			}
			requireCorrupt(t, path, err, tt.want)
		})
	}
}

// TestRandomDamageNeverPanics overwrites random bytes of the data pages:
// Open must either refuse the file as corrupt or load exactly what was
// stored (when the damage hit free or unused space), never panic, crash or
// load something else.
func TestRandomDamageNeverPanics(t *testing.T) {
	good, want, rev := goodFile(t)
	data, err := os.ReadFile(good)
	require.NoError(t, err)
	ps := os.Getpagesize()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	runs := 100
	if testing.Short() {
		runs = 20
	}
	refused, path := 0, filepath.Join(t.TempDir(), "store.db")
	for i := range runs {
		damaged := bytes.Clone(data)
		for range 1 + rng.IntN(8) {
			off := 2*ps + rng.IntN(len(damaged)-2*ps-8)
			binary.NativeEndian.PutUint64(damaged[off:], rng.Uint64())
		}
		require.NoError(t, os.WriteFile(path, damaged, 0o600))
		st, err := openForTest(path)
		if err != nil {
			requireCorrupt(t, path, err, "")
			refused++
			continue
		}
		require.Equal(t, rev, st.Revision(), "run %d", i)
		requireSameState(t, want, dump(t, st))
		require.NoError(t, st.Close())
	}
	t.Logf("%d of %d damaged files refused, the rest were damaged only in unused space", refused, runs)
}

// tamper rewrites a data file directly with bbolt, bypassing the backend.
func tamper(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	require.NoError(t, err)
	require.NoError(t, db.Update(fn))
	require.NoError(t, db.Close())
}

func TestTamperedValuesAreDetected(t *testing.T) {
	good, _, _ := goodFile(t)
	valid, err := proto.Marshal(service("orders"))
	require.NoError(t, err)
	// put writes a raw value; for a kind bucket it keeps the digest in step,
	// as a buggy writer would, so the test reaches the check it is about.
	put := func(bucket, key string, value []byte) func(tx *bolt.Tx) error {
		return func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists([]byte(bucket))
			if err != nil {
				return err
			}
			if k := model.Kind(bucket); k.Validate() == nil {
				d, err := readDigest(tx)
				if err != nil {
					return err
				}
				if old := b.Get([]byte(key)); old != nil {
					d.remove(k, []byte(key), old)
				}
				d.add(k, []byte(key), value)
				if err := tx.Bucket([]byte(bucketMeta)).Put([]byte(keyDigest), seal(d.encode())); err != nil {
					return err
				}
			}
			return b.Put([]byte(key), value)
		}
	}
	badCRC := seal(valid)
	badCRC[0] ^= 0xff
	tests := []struct {
		name string
		fn   func(tx *bolt.Tx) error
		want string
	}{
		{"checksum mismatch", put("Service", "orders", badCRC), "record Service/orders: checksum mismatch"},
		{"value shorter than a checksum", put("Service", "orders", []byte{1, 2}), "shorter than its checksum"},
		{"payload that does not decode", put("Service", "orders", seal([]byte{0xff, 0xff, 0xff})), "does not decode"},
		{"record under the wrong name", put("Service", "billing", seal(valid)), `record Service/billing holds an object named "orders"`},
		{"damaged revision", put("meta", "revision", []byte{0, 0, 0, 0, 0, 0, 0, 0, 9}), "revision unreadable"},
		{"unknown bucket", put("Widgets", "w", seal(nil)), `unknown bucket "Widgets"`},
		{"record removed behind the digest's back", func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("Service")).Delete([]byte("orders"))
		}, "the file holds 200 records but its digest expects 201: records were lost or added"},
		{"record altered behind the digest's back", func(tx *bolt.Tx) error {
			return tx.Bucket([]byte("Service")).Put([]byte("orders"), seal(valid))
		}, "records were altered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := copyFile(t, good)
			tamper(t, path, tt.fn)
			st, err := openForTest(path)
			if st != nil {
				_ = st.Close()
			}
			requireCorrupt(t, path, err, tt.want)
		})
	}
}

func TestNewerFormatIsRefused(t *testing.T) {
	path := copyFile(t, must(goodFile(t)))
	tamper(t, path, func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bucketMeta)).Put([]byte(keyFormat), seal(binary.BigEndian.AppendUint32(nil, 2)))
	})
	_, err := openForTest(path)
	require.ErrorContains(t, err, fmt.Sprintf("data file %q has format version 2; this release reads version 1", path))
	var ce *CorruptError
	require.False(t, errors.As(err, &ce), "a newer format is not damage")
}

func must(path string, _ []model.Object, _ uint64) string { return path }

func TestForeignBoltFileIsRefused(t *testing.T) {
	for name, fn := range map[string]func(tx *bolt.Tx) error{
		"with a bucket of its own": func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("other")); return err },
		"with no bucket":           func(*bolt.Tx) error { return nil },
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "store.db")
			tamper(t, path, fn)
			_, err := openForTest(path)
			requireCorrupt(t, path, err, "not a Tollgate data file")
		})
	}
}
