package server

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neonvm-ts/neonvm/guest/agent/cpu"
	"github.com/neonvm-ts/neonvm/guest/agent/files"
)

func newTestServer(t *testing.T) (*httptest.Server, string) {
	root := t.TempDir()
	sys := filepath.Join(root, "sys")
	for path, content := range map[string]string{
		"online": "0-1\n", "offline": "2-3\n", "present": "0-3\n",
		"cpu1/online": "1\n", "cpu2/online": "0\n", "cpu3/online": "0\n",
	} {
		p := filepath.Join(sys, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	meminfo := filepath.Join(root, "meminfo")
	if err := os.WriteFile(meminfo, []byte("MemTotal: 1024 kB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(Handler(Config{
		CPU: cpu.NewController(cpu.NewSysfs(sys), ""), CPUScalingMode: "SysfsScaling", MemInfoPath: meminfo, FilesRoot: filepath.Join(root, "guest"),
		Roots: []files.Root{{Path: "/etc/tls", FileMode: 0o600}, {Path: "/etc/app", FileMode: 0o644}},
		Token: testToken,
	}))
	t.Cleanup(srv.Close)
	return srv, root
}

const testToken = "0123456789abcdef"

func do(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	return doAuth(t, "Bearer "+testToken, method, url, body)
}

func doAuth(t *testing.T, authorization, method, url, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	buf := make([]byte, 4096)
	n, _ := res.Body.Read(buf)
	return res.StatusCode, string(buf[:n])
}

func TestCPUEndpoints(t *testing.T) {
	srv, root := newTestServer(t)
	if code, body := do(t, "GET", srv.URL+"/cpu", ""); code != 200 || body != "2000" {
		t.Fatalf("GET /cpu = %d %q", code, body)
	}
	if code, _ := do(t, "PUT", srv.URL+"/cpu", "2500"); code != 200 {
		t.Fatalf("PUT /cpu 2500 = %d", code)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "sys", "cpu2", "online")); string(b) != "1" {
		t.Fatalf("cpu2/online = %q", b)
	}
	if code, _ := do(t, "PUT", srv.URL+"/cpu", "lots"); code != 400 {
		t.Fatalf("PUT /cpu lots = %d", code)
	}
	if code, _ := do(t, "POST", srv.URL+"/cpu", "1"); code != 404 {
		t.Fatalf("POST /cpu = %d", code)
	}
}

func TestFilesRoundTrip(t *testing.T) {
	srv, root := newTestServer(t)
	if code, _ := do(t, "GET", srv.URL+"/files/etc/tls", ""); code != 400 {
		t.Fatalf("GET before PUT = %d", code)
	}
	if code, body := do(t, "PUT", srv.URL+"/files/etc/tls", `{"tls.crt":{"data":"aGVsbG8="}}`); code != 200 {
		t.Fatalf("PUT = %d %s", code, body)
	}
	if b, _ := os.ReadFile(filepath.Join(root, "guest", "etc", "tls", "tls.crt")); string(b) != "hello" {
		t.Fatalf("tls.crt = %q", b)
	}
	// The root's mode: the TLS directory's files are root-only.
	if st, err := os.Stat(filepath.Join(root, "guest", "etc", "tls", "tls.crt")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("tls.crt mode = %v, %v", st.Mode().Perm(), err)
	}
	if code, body := do(t, "GET", srv.URL+"/files/etc/tls", ""); code != 200 || len(body) != 43 {
		t.Fatalf("GET = %d %q", code, body)
	}
	if code, _ := do(t, "PUT", srv.URL+"/files/etc/tls", `{"../x":{"data":""}}`); code != 400 {
		t.Fatalf("PUT bad name = %d", code)
	}
}

func TestStatusAndReady(t *testing.T) {
	srv, _ := newTestServer(t)
	if code, body := do(t, "GET", srv.URL+"/status", ""); code != 200 ||
		!strings.Contains(body, `"onlineCpus":[0,1]`) || !strings.Contains(body, `"cpuTarget":0`) || !strings.Contains(body, `"memTotalBytes":1048576`) {
		t.Fatalf("GET /status = %d %s", code, body)
	}
	if code, _ := do(t, "GET", srv.URL+"/ready", ""); code != 200 {
		t.Fatalf("GET /ready = %d", code)
	}
}

func TestAuthentication(t *testing.T) {
	srv, _ := newTestServer(t)
	for _, auth := range []string{"", "Bearer", "Bearer wrong", "Bearer " + testToken + "x", "Basic " + testToken, testToken} {
		for _, path := range []string{"/ready", "/status", "/cpu", "/files/etc/tls"} {
			if code, _ := doAuth(t, auth, "GET", srv.URL+path, ""); code != 401 {
				t.Errorf("GET %s with Authorization %q = %d, want 401", path, auth, code)
			}
		}
		if code, _ := doAuth(t, auth, "PUT", srv.URL+"/files/etc/tls", `{"a":{"data":""}}`); code != 401 {
			t.Errorf("PUT /files with Authorization %q = %d, want 401", auth, code)
		}
	}
	if code, _ := do(t, "GET", srv.URL+"/ready", ""); code != 200 {
		t.Fatalf("GET /ready with the token = %d", code)
	}
	// No token configured (no runtime disk): everything is refused.
	closed := httptest.NewServer(Handler(Config{CPU: cpu.NewController(cpu.NewSysfs(t.TempDir()), "")}))
	defer closed.Close()
	if code, _ := doAuth(t, "Bearer ", "GET", closed.URL+"/ready", ""); code != 401 {
		t.Fatalf("agent without a token answered %d", code)
	}
}

func TestTokenMatches(t *testing.T) {
	cases := []struct {
		header, token string
		want          bool
	}{
		{"Bearer abc", "abc", true},
		{"Bearer abc ", "abc", true},
		{"Bearer abd", "abc", false},
		{"Bearer ab", "abc", false},
		{"bearer abc", "abc", false},
		{"Bearer ", "", false},
		{"", "", false},
	}
	for _, c := range cases {
		if got := TokenMatches(c.header, c.token); got != c.want {
			t.Errorf("TokenMatches(%q, %q) = %v", c.header, c.token, got)
		}
	}
}

func TestFilesOnlyUnderRoots(t *testing.T) {
	srv, root := newTestServer(t)
	body := `{"x":{"data":"aGk="}}`
	for path, want := range map[string]int{
		"/files/etc/shadow":         403,
		"/files/root/.ssh":          403,
		"/files/etc":                403,
		"/files/etc/tlsx":           403,
		"/files/etc/tls/../passwd":  400,
		"/files/etc/tls/%2e%2e/x":   400,
		"/files/etc/app/sub/../..":  400,
		"/files//etc/tls":           400,
		"/files/etc/app/nested/dir": 200,
	} {
		if code, text := do(t, "PUT", srv.URL+path, body); code != want {
			t.Errorf("PUT %s = %d %s, want %d", path, code, text, want)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "guest", "etc", "shadow")); !os.IsNotExist(err) {
		t.Fatalf("a file was written outside the roots: %v", err)
	}
	// A symlink planted in a root that points out of it.
	if err := os.Symlink(filepath.Join(root, "guest", "etc"), filepath.Join(root, "guest", "etc", "app", "out")); err != nil {
		t.Fatal(err)
	}
	if code, _ := do(t, "PUT", srv.URL+"/files/etc/app/out", body); code != 403 {
		t.Fatalf("PUT through an escaping symlink = %d", code)
	}
	if code, _ := do(t, "GET", srv.URL+"/files/etc/shadow", ""); code != 403 {
		t.Fatalf("GET checksum outside the roots = %d", code)
	}
}

func TestBodyLimits(t *testing.T) {
	srv, _ := newTestServer(t)
	big := `{"x":{"data":"` + strings.Repeat("A", MaxFilesBody) + `"}}`
	if code, _ := do(t, "PUT", srv.URL+"/files/etc/app", big); code != 413 {
		t.Fatalf("PUT /files over the limit = %d, want 413", code)
	}
	if code, _ := do(t, "PUT", srv.URL+"/cpu", strings.Repeat("1", MaxOtherBody+1)); code != 413 {
		t.Fatalf("PUT /cpu over the limit = %d, want 413", code)
	}
	// A ConfigMap-sized payload (1 MiB of data) still fits.
	ok := `{"x":{"data":"` + strings.Repeat("A", (1<<20)/3*4) + `"}}`
	if code, text := do(t, "PUT", srv.URL+"/files/etc/app", ok); code != 200 {
		t.Fatalf("PUT /files of 1 MiB = %d %s", code, text)
	}
}

func TestSwapResize(t *testing.T) {
	var got []uint64
	srv := httptest.NewServer(Handler(Config{
		CPU:        cpu.NewController(cpu.NewSysfs(t.TempDir()), ""),
		Token:      testToken,
		ResizeSwap: func(n uint64) error { got = append(got, n); return nil },
	}))
	defer srv.Close()
	if code, _ := do(t, "PUT", srv.URL+"/swap", "1073741824"); code != 200 {
		t.Fatalf("PUT /swap = %d", code)
	}
	if code, _ := do(t, "PUT", srv.URL+"/swap", "1Gi"); code != 400 {
		t.Fatalf("PUT /swap 1Gi = %d, want 400", code)
	}
	if code, _ := do(t, "GET", srv.URL+"/swap", ""); code != 404 {
		t.Fatalf("GET /swap = %d, want 404", code)
	}
	if len(got) != 1 || got[0] != 1<<30 {
		t.Fatalf("resize calls %v", got)
	}
	noSwap := httptest.NewServer(Handler(Config{CPU: cpu.NewController(cpu.NewSysfs(t.TempDir()), ""), Token: testToken}))
	defer noSwap.Close()
	if code, _ := do(t, "PUT", noSwap.URL+"/swap", "1"); code != 404 {
		t.Fatalf("PUT /swap without a resizer = %d, want 404", code)
	}
}
