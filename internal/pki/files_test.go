package pki

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestWriteReadFiles(t *testing.T) {
	ca := newTestCA(t)
	dir := filepath.Join(t.TempDir(), "certs")

	write := func() (certPEM, keyPEM []byte) {
		certPEM, keyPEM, err := ca.Issue(GatewayID("td", "edge"), nil, nil, testNow, time.Hour)
		require.NoError(t, err)
		require.NoError(t, WriteFiles(dir, certPEM, keyPEM, ca.CertPEM()))
		return certPEM, keyPEM
	}
	write()
	certPEM, keyPEM := write() // replacing existing files works too

	gotCert, gotKey, gotCA, err := ReadFiles(dir)
	require.NoError(t, err)
	require.Equal(t, certPEM, gotCert)
	require.Equal(t, keyPEM, gotKey)
	require.Equal(t, ca.CertPEM(), gotCA)

	modes := map[string]os.FileMode{"": 0o700, CertFile: 0o644, KeyFile: 0o600, CAFile: 0o644}
	for name, want := range modes {
		info, err := os.Stat(filepath.Join(dir, name))
		require.NoError(t, err)
		require.Equal(t, want, info.Mode().Perm(), "mode of %q", name)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 3, "no temporary files are left behind")
}

func TestReadFilesMissing(t *testing.T) {
	_, _, _, err := ReadFiles(t.TempDir())
	require.ErrorIs(t, err, fs.ErrNotExist)
}

func TestWriteFilesFailureLeavesNoTemps(t *testing.T) {
	dir := t.TempDir()
	// A directory where the key file should go makes its rename fail.
	require.NoError(t, os.Mkdir(filepath.Join(dir, KeyFile), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, KeyFile, "x"), nil, 0o600))
	err := WriteFiles(dir, []byte("cert"), []byte("key"), []byte("ca"))
	require.ErrorContains(t, err, "replace key.pem")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	require.ElementsMatch(t, []string{CAFile, KeyFile}, names)
}
