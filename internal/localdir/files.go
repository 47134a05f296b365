package localdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Files lists the definition files under dir, recursively, as slash-separated
// paths relative to dir in lexical order (the order they are loaded and
// reported in). It takes *.yaml, *.yml and *.json files, including symlinks
// to files (as Kubernetes ConfigMap volumes and `ln -s` setups use), and
// skips hidden files and directories and editor backups, so a swap file or a
// .git directory is never loaded. The `apply -f DIR` command uses the same
// list, so both modes agree on what a directory contains.
func Files(dir string) ([]string, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("definitions directory: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("definitions directory %q is not a directory", dir)
	}
	var files []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == dir {
			return nil
		}
		if d.IsDir() {
			if isHidden(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if !IsDefinitionFile(d.Name()) || !isFile(path, d) {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		files = append(files, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list definitions in %q: %w", dir, err)
	}
	return files, nil
}

// IsDefinitionFile reports whether a file name is one a directory load
// takes: a definitions extension, not hidden, not an editor's temporary copy.
func IsDefinitionFile(name string) bool {
	if isHidden(name) || isEditorTemp(name) {
		return false
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

func isHidden(name string) bool { return strings.HasPrefix(name, ".") }

// isEditorTemp recognises backup and autosave files: Emacs' foo~, #foo# and
// .#foo, Vim's .swp (hidden anyway) and the 4913 probe file.
func isEditorTemp(name string) bool {
	return strings.HasSuffix(name, "~") ||
		strings.HasPrefix(name, ".#") ||
		(strings.HasPrefix(name, "#") && strings.HasSuffix(name, "#")) ||
		name == "4913"
}

// isFile reports whether a directory entry is a regular file or a symlink to
// one. A dangling symlink is skipped, as it would be by `cat *.yaml`.
func isFile(path string, d fs.DirEntry) bool {
	if d.Type().IsRegular() {
		return true
	}
	if d.Type()&fs.ModeSymlink == 0 {
		return false
	}
	info, err := os.Stat(path)
	if err != nil {
		return errors.Is(err, fs.ErrPermission) // reported when read
	}
	return info.Mode().IsRegular()
}
