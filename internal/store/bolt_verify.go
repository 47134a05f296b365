package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// bbolt's on-disk layout (go.etcd.io/bbolt/internal/common), in the byte
// order of the machine that wrote it. bbolt files are not portable across
// byte orders, so reading them in native order is what bbolt itself does.
const (
	boltMagic        = 0xED0CDAED
	boltVersion      = 2
	pageHeaderSize   = 16 // id u64, flags u16, count u16, overflow u32
	elementSize      = 16 // branch: pos, ksize u32, pgid u64; leaf: flags, pos, ksize, vsize u32
	bucketHeaderSize = 16 // root pgid u64, sequence u64
	branchPageFlag   = 0x01
	leafPageFlag     = 0x02
	freelistPageFlag = 0x10
	bucketLeafFlag   = 0x01
	noFreelist       = ^uint64(0)
	maxTreeDepth     = 64
)

var ne = binary.NativeEndian

// checkSize refuses a file too short for bbolt's two meta pages before bbolt
// maps it: reading a meta page past the end of a mapped file is a SIGBUS.
func checkSize(path string, size int64) error {
	if size == 0 {
		return errors.New("the file is empty")
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	ps := int64(os.Getpagesize())
	hdr := make([]byte, pageHeaderSize+12)
	if _, err := f.ReadAt(hdr, 0); err == nil && ne.Uint32(hdr[16:]) == boltMagic {
		ps = int64(ne.Uint32(hdr[24:]))
	}
	if ps <= 0 || size < 2*ps {
		return fmt.Errorf("the file is %d bytes, too short for two %d-byte meta pages", size, ps)
	}
	return nil
}

// verify checks the page structure of an open bolt file with plain reads,
// then runs bbolt's consistency check. bbolt's check runs in a goroutine of
// its own, where a read outside the mapped file would crash the process
// rather than panic; the walk below makes sure every page it will touch
// exists and every element fits in its page before it runs.
func verify(db *bolt.DB, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer func() { _ = f.Close() }()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	return db.View(func(tx *bolt.Tx) error {
		//nolint:gosec // page size, file size and transaction id are never negative
		w := &walker{f: f, ps: uint64(db.Info().PageSize), size: uint64(info.Size()), seen: map[uint64]bool{}}
		root, freelist, err := w.meta(uint64(tx.ID())) //nolint:gosec // see above
		if err != nil {
			return err
		}
		if err := w.freelist(freelist); err != nil {
			return err
		}
		if err := w.page(root, 0); err != nil {
			return err
		}
		return check(tx)
	})
}

// check runs bbolt's consistency check and reports its first findings.
func check(tx *bolt.Tx) error {
	var found []string
	n := 0
	for err := range tx.Check() {
		if n++; n <= 3 {
			found = append(found, err.Error())
		}
	}
	if n == 0 {
		return nil
	}
	return fmt.Errorf("consistency check found %d problems: %s", n, strings.Join(found, "; "))
}

// walker reads pages of a bolt file with ReadAt, never through the map.
type walker struct {
	f    *os.File
	ps   uint64 // page size
	size uint64 // file size
	hwm  uint64 // high-water mark: pages [0, hwm) exist
	seen map[uint64]bool
}

func (w *walker) read(off, n uint64) ([]byte, error) {
	if off+n > w.size || off+n < off {
		return nil, fmt.Errorf("read of %d bytes at %d is past the end of the %d-byte file", n, off, w.size)
	}
	buf := make([]byte, n)
	if _, err := w.f.ReadAt(buf, int64(off)); err != nil { //nolint:gosec // off+n <= w.size, a file size
		return nil, err
	}
	return buf, nil
}

// meta finds the meta page of transaction txid, checks it and sets the
// high-water mark; it returns the root bucket and freelist pages.
func (w *walker) meta(txid uint64) (root, freelist uint64, err error) {
	for _, pg := range []uint64{0, 1} {
		b, err := w.read(pg*w.ps+pageHeaderSize, 64)
		if err != nil {
			return 0, 0, err
		}
		sum := fnv.New64a()
		_, _ = sum.Write(b[:56])
		if ne.Uint32(b) != boltMagic || ne.Uint32(b[4:]) != boltVersion || ne.Uint64(b[56:]) != sum.Sum64() || ne.Uint64(b[48:]) != txid {
			continue
		}
		w.hwm = ne.Uint64(b[40:])
		if w.hwm > w.size/w.ps {
			return 0, 0, fmt.Errorf("file is truncated: it is %d bytes but its %d pages need %d", w.size, w.hwm, w.hwm*w.ps)
		}
		return ne.Uint64(b[16:]), ne.Uint64(b[32:]), nil
	}
	return 0, 0, fmt.Errorf("no valid meta page for transaction %d", txid)
}

// header reads and checks the header of page id, returning its flags, count
// and contents (overflow pages included).
func (w *walker) header(id uint64) (flags, count uint16, buf []byte, err error) {
	if id < 2 || id >= w.hwm {
		return 0, 0, nil, fmt.Errorf("page %d is out of bounds (the file has %d pages)", id, w.hwm)
	}
	h, err := w.read(id*w.ps, pageHeaderSize)
	if err != nil {
		return 0, 0, nil, err
	}
	if got := ne.Uint64(h); got != id {
		return 0, 0, nil, fmt.Errorf("page %d is labelled page %d", id, got)
	}
	overflow := uint64(ne.Uint32(h[12:]))
	if id+overflow >= w.hwm {
		return 0, 0, nil, fmt.Errorf("page %d with %d overflow pages runs past the last page %d", id, overflow, w.hwm-1)
	}
	for i := id; i <= id+overflow; i++ {
		if w.seen[i] {
			return 0, 0, nil, fmt.Errorf("page %d is referenced twice", i)
		}
		w.seen[i] = true
	}
	buf, err = w.read(id*w.ps, (overflow+1)*w.ps)
	return ne.Uint16(h[8:]), ne.Uint16(h[10:]), buf, err
}

// freelist checks the freelist page and that every free page exists.
func (w *walker) freelist(id uint64) error {
	if id == noFreelist {
		return nil
	}
	flags, count, buf, err := w.header(id)
	if err != nil {
		return fmt.Errorf("freelist: %w", err)
	}
	if flags != freelistPageFlag {
		return fmt.Errorf("freelist page %d has type %#x", id, flags)
	}
	start, n := uint64(pageHeaderSize), uint64(count)
	if count == 0xFFFF { // the real count is the first element
		n, start = ne.Uint64(buf[pageHeaderSize:]), pageHeaderSize+8
	}
	if n > (uint64(len(buf))-start)/8 {
		return fmt.Errorf("freelist page %d claims %d free pages, more than it can hold", id, n)
	}
	for i := uint64(0); i < n; i++ {
		if free := ne.Uint64(buf[start+8*i:]); free < 2 || free >= w.hwm {
			return fmt.Errorf("freelist page %d lists page %d, which is out of bounds", id, free)
		}
	}
	return nil
}

// page checks a branch or leaf page and everything below it.
func (w *walker) page(id uint64, depth int) error {
	if depth > maxTreeDepth {
		return errors.New("the page tree is deeper than any bbolt writes")
	}
	_, _, buf, err := w.header(id)
	if err != nil {
		return err
	}
	return w.node(buf, id, depth)
}

// node checks the elements of a page held in buf (a page of the file, or an
// inline bucket's page inside a value).
func (w *walker) node(buf []byte, id uint64, depth int) error {
	if len(buf) < pageHeaderSize {
		return fmt.Errorf("page %d: inline bucket page is %d bytes", id, len(buf))
	}
	flags, count := ne.Uint16(buf[8:]), uint64(ne.Uint16(buf[10:]))
	size := uint64(len(buf))
	if pageHeaderSize+count*elementSize > size {
		return fmt.Errorf("page %d: %d elements do not fit in %d bytes", id, count, size)
	}
	for i := uint64(0); i < count; i++ {
		e := buf[pageHeaderSize+i*elementSize:]
		off := pageHeaderSize + i*elementSize
		switch flags {
		case branchPageFlag:
			pos, ksize := uint64(ne.Uint32(e)), uint64(ne.Uint32(e[4:]))
			if off+pos+ksize > size {
				return fmt.Errorf("page %d: key %d runs past the page", id, i)
			}
			if err := w.page(ne.Uint64(e[8:]), depth+1); err != nil {
				return err
			}
		case leafPageFlag:
			if err := w.leaf(buf, off, id, depth); err != nil {
				return err
			}
		default:
			return fmt.Errorf("page %d has type %#x where a branch or leaf page belongs", id, flags)
		}
	}
	return nil
}

// leaf checks one leaf element at off and, for a nested bucket, its tree.
func (w *walker) leaf(buf []byte, off, id uint64, depth int) error {
	e := buf[off:]
	eflags := ne.Uint32(e)
	pos, ksize, vsize := uint64(ne.Uint32(e[4:])), uint64(ne.Uint32(e[8:])), uint64(ne.Uint32(e[12:]))
	end := off + pos + ksize + vsize
	if end > uint64(len(buf)) {
		return fmt.Errorf("page %d: an element runs past the page", id)
	}
	if eflags&bucketLeafFlag == 0 {
		return nil
	}
	v := buf[off+pos+ksize : end]
	if len(v) < bucketHeaderSize {
		return fmt.Errorf("page %d: bucket header is %d bytes", id, len(v))
	}
	if root := ne.Uint64(v); root != 0 {
		return w.page(root, depth+1)
	}
	return w.node(v[bucketHeaderSize:], id, depth+1)
}
