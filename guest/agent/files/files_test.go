package files

import (
	"encoding/base64"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/crypto/blake2b"
)

func TestChecksumMatchesSpec(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "b"), "bee")
	mustWrite(t, filepath.Join(dir, "a"), "")
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	// Expected value spelled out: a (empty) then b, directories and symlinks ignored.
	h, _ := blake2b.New256(nil)
	for _, f := range []struct{ name, content string }{{"a", ""}, {"b", "bee"}} {
		h.Write([]byte(f.name + "\x00"))
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(f.content)))
		h.Write(n[:])
		h.Write([]byte(f.content))
	}
	want := base64.RawStdEncoding.EncodeToString(h.Sum(nil))
	got, err := Checksum(dir)
	if err != nil || got != want {
		t.Fatalf("Checksum = %q, %v; want %q", got, err, want)
	}
}

func TestChecksumEmptyDir(t *testing.T) {
	got, err := Checksum(t.TempDir())
	// BLAKE2b-256 of the empty input.
	if err != nil || got != "DldRwCblQ7Loqy6wYJnaodHl30d3j3eH+qtFzfEv46g" {
		t.Fatalf("Checksum(empty) = %q, %v", got, err)
	}
}

func TestWriteAtomicLayoutAndUpdate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etc", "tls")
	now := time.Date(2026, 11, 27, 14, 0, 0, 0, time.UTC)
	if err := WriteAtomic(dir, Payload{"tls.crt": {Data: []byte("c1")}, "tls.key": {Data: []byte("k1")}}, now, 0o644); err != nil {
		t.Fatal(err)
	}
	first, _ := os.Readlink(filepath.Join(dir, "..data"))
	assertFile(t, filepath.Join(dir, "tls.crt"), "c1")
	if target, _ := os.Readlink(filepath.Join(dir, "tls.key")); target != "..data/tls.key" {
		t.Fatalf("tls.key → %q", target)
	}
	sum1, err := Checksum(filepath.Join(dir, "..data"))
	if err != nil {
		t.Fatal(err)
	}

	if err := WriteAtomic(dir, Payload{"tls.crt": {Data: []byte("c2")}, "ca.crt": {Data: []byte("ca")}}, now.Add(time.Second), 0o600); err != nil {
		t.Fatal(err)
	}
	assertFile(t, filepath.Join(dir, "tls.crt"), "c2")
	assertFile(t, filepath.Join(dir, "ca.crt"), "ca")
	// The second write asked for 0600 (the TLS key's root): not readable by other guest users.
	if st, err := os.Stat(filepath.Join(dir, "tls.crt")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("tls.crt mode = %v, %v; want 0600", st.Mode().Perm(), err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "tls.key")); !os.IsNotExist(err) {
		t.Fatalf("stale tls.key still present: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, first)); !os.IsNotExist(err) {
		t.Fatalf("previous data dir %s not removed", first)
	}
	sum2, _ := Checksum(filepath.Join(dir, "..data"))
	if sum1 == sum2 {
		t.Fatal("checksum did not change with content")
	}
}

func TestWriteAtomicRejectsBadNames(t *testing.T) {
	for _, name := range []string{"", "..data", "a/b", "."} {
		if err := WriteAtomic(t.TempDir(), Payload{name: {Data: nil}}, time.Now(), 0o644); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func assertFile(t *testing.T, path, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || string(b) != want {
		t.Fatalf("%s = %q, %v; want %q", path, b, err, want)
	}
}
