// Package hostmetrics serves the guest's host metrics in Prometheus text format, under the names
// of vector's `host_metrics` source that upstream's guest runs on :9100 (upstream's autoscaler-agent
// scrapes host_load1, host_memory_total_bytes, host_memory_available_bytes and
// host_memory_cached_bytes from there, each a gauge with exactly one series).
//
// Why here and not vector: vector is not packaged by Debian (the guest is built from Debian packages
// only), and Debian's prometheus-node-exporter exports node_* names the autoscaler does not read.
// The agent already runs in every guest; client_golang writes the exposition format and procfs parses
// /proc, so what is ours is only the name mapping.
package hostmetrics

import (
	"net/http"
	"os"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/procfs"
)

// Collector reads /proc on every scrape (no background sampling: a scrape sees the current values).
type Collector struct {
	fs       procfs.FS
	hostname string
	load     [3]*prometheus.Desc
	memory   map[string]*prometheus.Desc
	cpu      *prometheus.Desc
	bootTime *prometheus.Desc
}

// memoryGauges are vector's host_memory_* names (Linux); used = total - free - buffers - cached.
var memoryGauges = []string{
	"total", "free", "available", "active", "inactive", "buffers", "cached", "shared", "used",
	"swap_total", "swap_free", "swap_used",
}

// New reads procfs under procRoot ("/proc" in the guest). hostname labels every series as vector does.
func New(procRoot, hostname string) (*Collector, error) {
	fs, err := procfs.NewFS(procRoot)
	if err != nil {
		return nil, err
	}
	labels := func(collector string) prometheus.Labels {
		return prometheus.Labels{"collector": collector, "host": hostname}
	}
	c := &Collector{fs: fs, hostname: hostname, memory: map[string]*prometheus.Desc{}}
	for i, n := range []string{"host_load1", "host_load5", "host_load15"} {
		c.load[i] = prometheus.NewDesc(n, "System load average.", nil, labels("load"))
	}
	for _, m := range memoryGauges {
		c.memory[m] = prometheus.NewDesc("host_memory_"+m+"_bytes", "Host memory ("+m+") in bytes.", nil, labels("memory"))
	}
	c.cpu = prometheus.NewDesc("host_cpu_seconds_total", "CPU time by mode.", []string{"cpu", "mode"}, labels("cpu"))
	c.bootTime = prometheus.NewDesc("host_boot_time", "Boot time, seconds since the epoch.", nil, labels("host"))
	return c, nil
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.load {
		ch <- d
	}
	for _, d := range c.memory {
		ch <- d
	}
	ch <- c.cpu
	ch <- c.bootTime
}

// Collect implements prometheus.Collector. A source that cannot be read is left out of the scrape.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	if l, err := c.fs.LoadAvg(); err == nil {
		for i, v := range []float64{l.Load1, l.Load5, l.Load15} {
			ch <- prometheus.MustNewConstMetric(c.load[i], prometheus.GaugeValue, v)
		}
	}
	if m, err := c.fs.Meminfo(); err == nil {
		for name, v := range memoryValues(m) {
			ch <- prometheus.MustNewConstMetric(c.memory[name], prometheus.GaugeValue, v)
		}
	}
	if s, err := c.fs.Stat(); err == nil {
		for id, st := range s.CPU {
			cpu := strconv.FormatInt(id, 10)
			for mode, v := range map[string]float64{
				"user": st.User, "nice": st.Nice, "system": st.System, "idle": st.Idle,
				"io_wait": st.Iowait, "irq": st.IRQ, "softirq": st.SoftIRQ, "steal": st.Steal,
			} {
				ch <- prometheus.MustNewConstMetric(c.cpu, prometheus.CounterValue, v, cpu, mode)
			}
		}
		ch <- prometheus.MustNewConstMetric(c.bootTime, prometheus.GaugeValue, float64(s.BootTime))
	}
}

func memoryValues(m procfs.Meminfo) map[string]float64 {
	v := func(p *uint64) float64 {
		if p == nil {
			return 0
		}
		return float64(*p)
	}
	total, free, buffers, cached := v(m.MemTotalBytes), v(m.MemFreeBytes), v(m.BuffersBytes), v(m.CachedBytes)
	used := total - free - buffers - cached
	if used < 0 {
		used = 0
	}
	return map[string]float64{
		"total": total, "free": free, "available": v(m.MemAvailableBytes), "active": v(m.ActiveBytes),
		"inactive": v(m.InactiveBytes), "buffers": buffers, "cached": cached, "shared": v(m.ShmemBytes),
		"used": used, "swap_total": v(m.SwapTotalBytes), "swap_free": v(m.SwapFreeBytes),
		"swap_used": v(m.SwapTotalBytes) - v(m.SwapFreeBytes),
	}
}

// Handler serves the collector on /metrics (a registry of its own: no Go runtime series).
func Handler(c *Collector) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}

// Hostname is the label value vector would use.
func Hostname() string {
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	return h
}
