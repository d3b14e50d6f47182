package files

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Root is a directory the runner syncs files into: the mountPath of a watched configMap/secret disk
// (or of spec.tls). The runner lists them on the runtime disk (files-roots.json); the agent reads and
// writes nowhere else, so a caller of PUT /files cannot replace /etc/shadow or /root/.ssh.
type Root struct {
	Path string `json:"path"`
	// FileMode of the files written there (0600 for the TLS key's directory, 0644 otherwise).
	FileMode os.FileMode `json:"fileMode"`
}

// RootsFile is the runtime disk's files-roots.json.
type RootsFile struct {
	Roots []Root `json:"roots"`
}

// ErrBadPath: the request path is malformed (400); ErrOutsideRoots: well-formed but not under a
// synced-disk root, also after following symlinks (403).
var (
	ErrBadPath      = errors.New("bad path")
	ErrOutsideRoots = errors.New("outside the synced-disk roots")
)

// ParseRoots reads files-roots.json; every root must be an absolute, clean path with a mode of at
// most 0777.
func ParseRoots(b []byte) ([]Root, error) {
	var f RootsFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("files roots: %w", err)
	}
	for _, r := range f.Roots {
		if !filepath.IsAbs(r.Path) || filepath.Clean(r.Path) != r.Path || r.Path == "/" {
			return nil, fmt.Errorf("files roots: %q is not an absolute clean directory other than /", r.Path)
		}
		if r.FileMode&^0o777 != 0 {
			return nil, fmt.Errorf("files roots: %q has mode %o beyond 0777", r.Path, uint32(r.FileMode))
		}
	}
	return f.Roots, nil
}

// Resolve maps the guest path of a /files request (the URL path after "/files") to a directory on
// disk under prefix ("/" in the guest) and the root that allows it. The path must be absolute and
// clean (no "..", ".", "//" segments: refused, not cleaned, so a caller sees why), lie at or under
// a root, and stay there once symlinks are followed.
func Resolve(prefix string, roots []Root, guestPath string) (string, Root, error) {
	if !strings.HasPrefix(guestPath, "/") {
		return "", Root{}, fmt.Errorf("%w: %q is not an absolute guest path", ErrBadPath, guestPath)
	}
	for _, seg := range strings.Split(guestPath[1:], "/") {
		if seg == ".." || seg == "." || seg == "" || strings.ContainsRune(seg, 0) {
			return "", Root{}, fmt.Errorf("%w: %q has a %q segment", ErrBadPath, guestPath, seg)
		}
	}
	clean := filepath.Clean(guestPath)
	for _, root := range roots {
		if clean != root.Path && !strings.HasPrefix(clean, root.Path+"/") {
			continue
		}
		rootDir := filepath.Join(prefix, root.Path)
		dir := filepath.Join(prefix, clean)
		realRoot, err := resolveExisting(rootDir)
		if err != nil {
			return "", Root{}, err
		}
		realDir, err := resolveExisting(dir)
		if err != nil {
			return "", Root{}, err
		}
		if realDir != realRoot && !strings.HasPrefix(realDir, realRoot+"/") {
			return "", Root{}, fmt.Errorf("%w: %q leaves root %q through a symlink", ErrOutsideRoots, guestPath, root.Path)
		}
		return realDir, root, nil
	}
	return "", Root{}, fmt.Errorf("%w: %q is not under a watched disk's mountPath", ErrOutsideRoots, guestPath)
}

// resolveExisting follows the symlinks of the longest existing prefix of path and appends the rest
// (created later by MkdirAll, as plain directories).
func resolveExisting(path string) (string, error) {
	rest := ""
	p := path
	for {
		if _, err := os.Lstat(p); err == nil {
			real, err := filepath.EvalSymlinks(p)
			if err != nil {
				return "", err
			}
			return filepath.Join(real, rest), nil
		} else if !os.IsNotExist(err) {
			return "", err
		}
		parent := filepath.Dir(p)
		if parent == p {
			return path, nil
		}
		rest = filepath.Join(filepath.Base(p), rest)
		p = parent
	}
}
