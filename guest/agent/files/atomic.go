package files

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Payload is the PUT /files body: file name → {"data": base64 content} (encoding/json decodes the
// base64 into Data).
type Payload map[string]struct {
	Data []byte `json:"data"`
}

const dataLink = "..data"

// WriteAtomic replaces the content of dir with files, using the layout of Kubernetes' atomic
// writer so readers never see a half-updated set: the files go into a new timestamped directory
// "..<timestamp>", the "..data" symlink is switched to it with a rename, every visible name is a
// symlink "<name> → ..data/<name>", and then stale names and the previous directory are removed.
// Files get mode (owner: the agent, root); the directories stay 0755 as Kubernetes' are.
func WriteAtomic(dir string, files Payload, now time.Time, mode os.FileMode) error {
	if err := Validate(files); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	oldTarget, _ := os.Readlink(filepath.Join(dir, dataLink))

	tsDir, err := os.MkdirTemp(dir, now.UTC().Format("..2006_01_02_15_04_05."))
	if err != nil {
		return err
	}
	if err := os.Chmod(tsDir, 0o755); err != nil {
		return err
	}
	for name, f := range files {
		p := filepath.Join(tsDir, name)
		if err := os.WriteFile(p, f.Data, mode); err != nil {
			return err
		}
		if err := os.Chmod(p, mode); err != nil { // the umask may have taken bits away
			return err
		}
	}
	tmpLink := filepath.Join(dir, "..data_tmp")
	_ = os.Remove(tmpLink)
	if err := os.Symlink(filepath.Base(tsDir), tmpLink); err != nil {
		return err
	}
	if err := os.Rename(tmpLink, filepath.Join(dir, dataLink)); err != nil {
		return err
	}
	for name := range files {
		link := filepath.Join(dir, name)
		if target, err := os.Readlink(link); err == nil && target == filepath.Join(dataLink, name) {
			continue
		}
		_ = os.Remove(link)
		if err := os.Symlink(filepath.Join(dataLink, name), link); err != nil {
			return err
		}
	}
	return removeStale(dir, files, oldTarget)
}

func removeStale(dir string, files Payload, oldTarget string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, "..") {
			continue
		}
		if _, keep := files[name]; !keep && e.Type()&os.ModeSymlink != 0 {
			_ = os.Remove(filepath.Join(dir, name))
		}
	}
	if oldTarget != "" && strings.HasPrefix(oldTarget, "..") && !strings.Contains(oldTarget, "/") {
		return os.RemoveAll(filepath.Join(dir, oldTarget))
	}
	return nil
}

// Validate rejects names that are not plain file names (empty, "..*", containing "/").
func Validate(files Payload) error {
	for name := range files {
		if err := validName(name); err != nil {
			return err
		}
	}
	return nil
}

func validName(name string) error {
	if name == "" || strings.HasPrefix(name, "..") || strings.ContainsRune(name, '/') || name == "." {
		return fmt.Errorf("invalid file name %q", name)
	}
	return nil
}
