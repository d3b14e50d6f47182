package server

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neonvm-ts/neonvm/guest/agent/cpu"
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
	}))
	t.Cleanup(srv.Close)
	return srv, root
}

func do(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
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
