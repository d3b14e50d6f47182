package files

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestParseRoots(t *testing.T) {
	roots, err := ParseRoots([]byte(`{"roots":[{"path":"/var/tls","fileMode":384},{"path":"/etc/app","fileMode":420}]}`))
	if err != nil || len(roots) != 2 || roots[0] != (Root{Path: "/var/tls", FileMode: 0o600}) {
		t.Fatalf("ParseRoots = %v, %v", roots, err)
	}
	for _, bad := range []string{
		`{"roots":[{"path":"var/tls","fileMode":384}]}`,
		`{"roots":[{"path":"/var/../etc","fileMode":384}]}`,
		`{"roots":[{"path":"/","fileMode":384}]}`,
		`{"roots":[{"path":"/x","fileMode":2048}]}`,
		`not json`,
	} {
		if _, err := ParseRoots([]byte(bad)); err == nil {
			t.Errorf("ParseRoots(%s) accepted", bad)
		}
	}
}

func TestResolve(t *testing.T) {
	prefix := t.TempDir()
	roots := []Root{{Path: "/var/tls", FileMode: 0o600}, {Path: "/etc/app", FileMode: 0o644}}
	for _, d := range []string{"var/tls", "etc/app/sub", "etc/other"} {
		if err := os.MkdirAll(filepath.Join(prefix, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// A symlink inside a root that leaves it, and one that stays inside.
	if err := os.Symlink("/etc", filepath.Join(prefix, "etc/app/escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../other", filepath.Join(prefix, "etc/app/up")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("sub", filepath.Join(prefix, "etc/app/inside")); err != nil {
		t.Fatal(err)
	}

	for _, ok := range []struct{ path, dir string }{
		{"/var/tls", "var/tls"},
		{"/etc/app", "etc/app"},
		{"/etc/app/sub", "etc/app/sub"},
		{"/etc/app/new/deeper", "etc/app/new/deeper"}, // not there yet: made by the writer
		{"/etc/app/inside", "etc/app/sub"},
	} {
		dir, root, err := Resolve(prefix, roots, ok.path)
		real, _ := filepath.EvalSymlinks(prefix)
		if err != nil || dir != filepath.Join(real, ok.dir) {
			t.Errorf("Resolve(%q) = %q, %v; want %q", ok.path, dir, err, ok.dir)
		}
		if ok.path == "/var/tls" && root.FileMode != 0o600 {
			t.Errorf("root of /var/tls has mode %o", root.FileMode)
		}
	}
	for _, bad := range []struct {
		path string
		want error
	}{
		{"var/tls", ErrBadPath},
		{"/var/tls/../../etc", ErrBadPath},
		{"/etc/app/..", ErrBadPath},
		{"/etc/app/./x", ErrBadPath},
		{"/etc/app/x\x00", ErrBadPath},
		{"//etc/app", ErrBadPath},
		{"/etc/app/", ErrBadPath},
		{"/etc", ErrOutsideRoots},
		{"/etc/shadow", ErrOutsideRoots},
		{"/root/.ssh", ErrOutsideRoots},
		{"/var/tlsx", ErrOutsideRoots}, // a prefix of the name is not a parent
		{"/etc/app/escape", ErrOutsideRoots},
		{"/etc/app/escape/cron.d", ErrOutsideRoots},
		{"/etc/app/up", ErrOutsideRoots},
	} {
		if _, _, err := Resolve(prefix, roots, bad.path); !errors.Is(err, bad.want) {
			t.Errorf("Resolve(%q) = %v; want %v", bad.path, err, bad.want)
		}
	}
	if _, _, err := Resolve(prefix, nil, "/var/tls"); !errors.Is(err, ErrOutsideRoots) {
		t.Errorf("no roots: %v", err)
	}
}
