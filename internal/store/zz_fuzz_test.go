package store

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
	"errors"
)

func TestZZDamageAnywhere(t *testing.T) {
	good, _, _ := goodFile(t)
	data, _ := os.ReadFile(good)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 9))
	path := filepath.Join(t.TempDir(), "store.db")
	stats := map[string]int{}
	for i := 0; i < 3000; i++ {
		d := bytes.Clone(data)
		switch i % 4 {
		case 0:
			for range 1 + rng.IntN(4) { d[rng.IntN(len(d))] ^= byte(1 << rng.IntN(8)) }
		case 1:
			off := rng.IntN(len(d) - 64); for j := range 64 { d[off+j] = byte(rng.Uint32()) }
		case 2:
			d = d[:rng.IntN(len(d))]
		case 3:
			pg := rng.IntN(len(d) / 4096); for j := 0; j < 4096; j++ { d[pg*4096+j] = byte(rng.Uint32()) }
		}
		os.WriteFile(path, d, 0o600)
		st, err := openForTest(path)
		if err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) { t.Fatalf("non-corrupt error: %v", err) }
			stats["refused"]++
			continue
		}
		stats["ok"]++
		st.Close()
	}
	t.Log(stats)
}
