package hostmetrics

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func fakeProc(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"loadavg": "0.50 0.25 0.10 1/80 123\n",
		"meminfo": "MemTotal:        1000 kB\nMemFree:          300 kB\nMemAvailable:     600 kB\nBuffers:           50 kB\nCached:           200 kB\nShmem:             10 kB\nActive:           400 kB\nInactive:         100 kB\nSwapTotal:       2048 kB\nSwapFree:        1024 kB\n",
		"stat":    "cpu  10 0 5 100 0 0 0 0 0 0\ncpu0 10 0 5 100 0 0 0 0 0 0\nbtime 1700000000\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// The autoscaler-agent needs each of its four gauges with exactly one series.
func TestScrapeHasTheAutoscalerGauges(t *testing.T) {
	c, err := New(fakeProc(t), "vm-test")
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	Handler(c).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := parser.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"host_load1":                  0.5,
		"host_memory_total_bytes":     1000 * 1024,
		"host_memory_available_bytes": 600 * 1024,
		"host_memory_cached_bytes":    200 * 1024,
		"host_memory_used_bytes":      (1000 - 300 - 50 - 200) * 1024,
		"host_memory_swap_used_bytes": 1024 * 1024,
	}
	for name, v := range want {
		mf := mfs[name]
		if mf == nil {
			t.Fatalf("%s missing in\n%s", name, rec.Body.String())
		}
		if mf.GetType() != dto.MetricType_GAUGE || len(mf.Metric) != 1 {
			t.Fatalf("%s: type %v with %d series, want one gauge", name, mf.GetType(), len(mf.Metric))
		}
		if got := mf.Metric[0].GetGauge().GetValue(); got != v {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
	if cpu := mfs["host_cpu_seconds_total"]; cpu == nil || cpu.GetType() != dto.MetricType_COUNTER {
		t.Errorf("host_cpu_seconds_total missing or not a counter")
	}
}
