package store

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"hash/fnv"

	bolt "go.etcd.io/bbolt"

	"tollgate.dev/tollgate/internal/model"
)

// The layout of the bolt file: one bucket per kind (named after the kind,
// keyed by object name) and a meta bucket holding the format version, the
// revision (8 bytes, big-endian) and the digest of all records. Every value,
// meta values included, is an envelope: the big-endian CRC32-C (Castagnoli)
// of the payload, then the payload, so a flipped bit inside a value is found
// at Load instead of served.
const (
	formatVersion uint32 = 1
	bucketMeta           = "meta"
	keyFormat            = "format"
	keyRevision          = "revision"
	keyDigest            = "digest"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// seal wraps a payload in its checksum envelope.
func seal(payload []byte) []byte {
	out := make([]byte, 4, 4+len(payload))
	binary.BigEndian.PutUint32(out, crc32.Checksum(payload, castagnoli))
	return append(out, payload...)
}

// unseal verifies an envelope and returns its payload.
func unseal(v []byte) ([]byte, error) {
	if len(v) < 4 {
		return nil, fmt.Errorf("value is %d bytes, shorter than its checksum", len(v))
	}
	want, got := binary.BigEndian.Uint32(v), crc32.Checksum(v[4:], castagnoli)
	if want != got {
		return nil, fmt.Errorf("checksum mismatch: stored %08x, computed %08x", want, got)
	}
	return v[4:], nil
}

// readMeta reads and unseals a fixed-size meta value.
func readMeta(tx *bolt.Tx, key string, size int) ([]byte, error) {
	meta := tx.Bucket([]byte(bucketMeta))
	if meta == nil {
		return nil, fmt.Errorf("no %q bucket", bucketMeta)
	}
	v, err := unseal(meta.Get([]byte(key)))
	if err != nil {
		return nil, fmt.Errorf("%s unreadable: %w", key, err)
	}
	if len(v) != size {
		return nil, fmt.Errorf("%s unreadable: %d bytes, expected %d", key, len(v), size)
	}
	return v, nil
}

// digest summarises every record of the file: how many there are and the
// XOR of a hash of each (kind, name, stored value). Commit updates it
// incrementally and Load recomputes it. Per-value checksums cannot see a
// record that vanished; a damaged page header can hide records without
// breaking bbolt's structure, and the digest catches that.
type digest struct {
	count, sum uint64
}

func recordHash(k model.Kind, name, value []byte) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(k))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write(name)
	_, _ = h.Write([]byte{0})
	_, _ = h.Write(value)
	return h.Sum64()
}

func (d *digest) add(k model.Kind, name, value []byte) {
	d.count++
	d.sum ^= recordHash(k, name, value)
}

func (d *digest) remove(k model.Kind, name, value []byte) {
	d.count--
	d.sum ^= recordHash(k, name, value)
}

func (d digest) encode() []byte {
	return binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, d.count), d.sum)
}

func readDigest(tx *bolt.Tx) (digest, error) {
	v, err := readMeta(tx, keyDigest, 16)
	if err != nil {
		return digest{}, err
	}
	return digest{count: binary.BigEndian.Uint64(v), sum: binary.BigEndian.Uint64(v[8:])}, nil
}

// initialise lays out a new data file: the meta bucket at revision 0 with an
// empty digest, and one empty bucket per kind.
func initialise(db *bolt.DB) error {
	return db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucket([]byte(bucketMeta))
		if err != nil {
			return err
		}
		for key, v := range map[string][]byte{
			keyFormat:   binary.BigEndian.AppendUint32(nil, formatVersion),
			keyRevision: binary.BigEndian.AppendUint64(nil, 0),
			keyDigest:   digest{}.encode(),
		} {
			if err := meta.Put([]byte(key), seal(v)); err != nil {
				return err
			}
		}
		for _, k := range model.Kinds {
			if _, err := tx.CreateBucket([]byte(k)); err != nil {
				return err
			}
		}
		return nil
	})
}
