package pki

import (
	"fmt"
	"os"
	"path/filepath"
)

// The file layout every file-watching client reads: grpc-go's file_watcher
// certificate provider (certificate_file, private_key_file, ca_certificate_file)
// and Envoy's path-based SDS.
const (
	CertFile = "cert.pem"
	KeyFile  = "key.pem"
	CAFile   = "ca.pem"
)

const (
	dirMode  os.FileMode = 0o700
	keyMode  os.FileMode = 0o600
	certMode os.FileMode = 0o644 // certificates are public
)

// WriteFiles replaces cert.pem, key.pem and ca.pem in dir (created 0700 if
// missing) so that readers see whole files and, once writing ends, a key that
// matches the certificate.
//
// Each file is first written in full to a temporary file in dir and fsynced;
// only then are they renamed into place, which is atomic on POSIX file
// systems, and the directory is fsynced so the renames survive a crash. The
// renames go ca.pem, then key.pem, then cert.pem: the CA first so a new
// certificate is never presented before its issuer is trusted, and the
// certificate last because it is the file watchers key on, so the last
// change event a watcher sees finds the new key already in place.
//
// Three renames cannot be one atomic step, so a reader that looks between
// the key and certificate renames sees a new key with the old certificate.
// Both clients tolerate that: grpc-go's file_watcher re-reads all three files
// on every refresh, rejects a key that does not match its certificate and
// keeps serving the previous pair until the next refresh (so its refresh
// interval must be well under a third of the certificate lifetime). Envoy's
// path-based SDS re-reads on every file moved into the directory: the key's
// rename gives a mismatched pair that it rejects, keeping the old one, and
// the certificate's rename then loads the new pair. We do
// not use the Kubernetes-style swapped symlink directory, which would make
// the swap atomic, because it changes the paths clients are configured with.
func WriteFiles(dir string, certPEM, keyPEM, caPEM []byte) error {
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return fmt.Errorf("create certificate directory: %w", err)
	}
	// Order matters: see the doc comment.
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{CAFile, caPEM, certMode},
		{KeyFile, keyPEM, keyMode},
		{CertFile, certPEM, certMode},
	}
	temps := make([]string, 0, len(files))
	defer func() {
		for _, t := range temps {
			_ = os.Remove(t) // already renamed on success: nothing to remove
		}
	}()
	for _, f := range files {
		tmp, err := writeTemp(dir, f.name, f.data, f.mode)
		if err != nil {
			return err
		}
		temps = append(temps, tmp)
	}
	for i, f := range files {
		if err := os.Rename(temps[i], filepath.Join(dir, f.name)); err != nil {
			return fmt.Errorf("replace %s: %w", f.name, err)
		}
	}
	return syncDir(dir)
}

// writeTemp writes data to a new temporary file next to name, with mode,
// and fsyncs it, so the later rename exposes complete, durable contents.
func writeTemp(dir, name string, data []byte, mode os.FileMode) (string, error) {
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("write %s: %w", name, err)
	}
	return f.Name(), nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync certificate directory: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync certificate directory: %w", err)
	}
	return nil
}

// ReadFiles reads the three files back, for instance to decide whether a
// renewal is due. A missing file gives an error wrapping fs.ErrNotExist, so
// the caller can tell "never written" from a real failure.
func ReadFiles(dir string) (certPEM, keyPEM, caPEM []byte, err error) {
	var out [3][]byte
	for i, name := range [...]string{CertFile, KeyFile, CAFile} {
		if out[i], err = os.ReadFile(filepath.Join(dir, name)); err != nil {
			return nil, nil, nil, fmt.Errorf("read certificate files: %w", err)
		}
	}
	return out[0], out[1], out[2], nil
}
