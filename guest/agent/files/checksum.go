// Package files implements the runner↔guest file sync of upstream NeonVM: a checksum over a flat
// directory and an atomic writer with the Kubernetes ("..data" symlink) layout.
package files

import (
	"encoding/base64"
	"encoding/binary"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sort"

	"golang.org/x/crypto/blake2b"
)

// Checksum hashes the regular files directly inside dir (no recursion, symlinks and directories
// skipped): BLAKE2b-256 over, for each file in name order, the name, a 0x00 byte, the content length
// as 8-byte little-endian, and the content. The digest is unpadded standard base64. The runner
// computes the same value on the host side to decide whether to upload.
func Checksum(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	h, err := blake2b.New256(nil)
	if err != nil {
		return "", err
	}
	for _, name := range names {
		if err := hashFile(h, dir, name); err != nil {
			return "", err
		}
	}
	return base64.RawStdEncoding.EncodeToString(h.Sum(nil)), nil
}

func hashFile(h hash.Hash, dir, name string) error {
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	h.Write([]byte(name))
	h.Write([]byte{0})
	var size [8]byte
	binary.LittleEndian.PutUint64(size[:], uint64(st.Size()))
	h.Write(size[:])
	_, err = io.Copy(h, f)
	return err
}
