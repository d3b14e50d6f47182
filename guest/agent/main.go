// neonvmd is the NeonVM guest agent: it runs inside the VM, serves the runner's HTTP API on port
// 25183 (CPU scaling through sysfs, file sync, swap resize), serves host metrics on :9100 for the
// autoscaler, onlines hot-plugged vCPUs in QMP scaling mode and turns an ACPI power-button press into
// a clean poweroff. The API listens on the runner-facing link address only (eth0's 169.254.254.254,
// not the overlay's eth1) and needs the runner's token; the metrics are read-only and public.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/neonvm-ts/neonvm/guest/agent/cpu"
	"github.com/neonvm-ts/neonvm/guest/agent/files"
	"github.com/neonvm-ts/neonvm/guest/agent/hostmetrics"
	"github.com/neonvm-ts/neonvm/guest/agent/powerbutton"
	"github.com/neonvm-ts/neonvm/guest/agent/server"
	"github.com/neonvm-ts/neonvm/guest/agent/uevent"
)

const (
	modeQmp   = "QmpScaling"
	modeSysfs = "SysfsScaling"
	// ReadyLine is printed on the console once the API listens; tests and the runner wait for it.
	readyLine = "neonvm-guest: ready"
)

func main() {
	addr := flag.String("addr", "169.254.254.254:25183", "listen address: the runner-facing link (bound before DHCP configures it)")
	sysfsCPU := flag.String("sysfs-cpu", "/sys/devices/system/cpu", "sysfs CPU directory")
	runtimeDir := flag.String("runtime-dir", "/neonvm/runtime", "mounted runtime ISO (reads cpu-scaling-mode, agent-token, files-roots.json)")
	mode := flag.String("cpu-scaling-mode", "", "QmpScaling or SysfsScaling (default: <runtime-dir>/cpu-scaling-mode, else QmpScaling)")
	poweroff := flag.String("poweroff", "/neonvm/bin/poweroff", "command run on an ACPI power-button press")
	cpuTargetFile := flag.String("cpu-target-file", "/run/neonvm/cpu-target", "where the last PUT /cpu target survives agent restarts")
	metricsAddr := flag.String("metrics-addr", "0.0.0.0:9100", "host metrics (vector host_metrics names) listen address; empty: off")
	resizeSwap := flag.String("resize-swap", "/neonvm/bin/resize-swap", "helper PUT /swap runs with the size in bytes")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("neonvmd: ")

	scalingMode, err := resolveMode(*mode, *runtimeDir)
	if err != nil {
		log.Fatal(err)
	}
	cpus := cpu.NewController(cpu.NewSysfs(*sysfsCPU), *cpuTargetFile)
	if scalingMode == modeQmp {
		go onlineHotplugged(cpus)
	}
	go watchPowerButton(*poweroff)
	if *metricsAddr != "" {
		go serveHostMetrics(*metricsAddr)
	}

	token, roots := readAccess(*runtimeDir)
	ln, err := listenFreebind(*addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("listening on %s, cpu scaling mode %s, %d synced-disk roots", *addr, scalingMode, len(roots))
	fmt.Println(readyLine)
	srv := &http.Server{
		Handler: server.Handler(server.Config{
			CPU: cpus, CPUScalingMode: scalingMode, MemInfoPath: "/proc/meminfo", FilesRoot: "/",
			Roots: roots, Token: token,
			ResizeSwap: func(n uint64) error {
				out, err := exec.Command(*resizeSwap, strconv.FormatUint(n, 10)).CombinedOutput()
				if err != nil {
					return fmt.Errorf("%s: %v: %s", *resizeSwap, err, strings.TrimSpace(string(out)))
				}
				return nil
			},
		}),
		ReadTimeout:    5 * time.Second,
		WriteTimeout:   5 * time.Second,
		MaxHeaderBytes: 8 << 10,
	}
	log.Fatal(srv.Serve(ln))
}

// readAccess reads the runner's token and the synced-disk roots from the runtime disk (mounted
// root-only by sysinit). Without a token every request is refused: failing closed.
func readAccess(runtimeDir string) (string, []files.Root) {
	b, err := os.ReadFile(filepath.Join(runtimeDir, "agent-token"))
	token := strings.TrimSpace(string(b))
	if err != nil || token == "" {
		log.Printf("no agent token on the runtime disk (%v): refusing every request", err)
	}
	var roots []files.Root
	if b, err := os.ReadFile(filepath.Join(runtimeDir, "files-roots.json")); err == nil {
		if roots, err = files.ParseRoots(b); err != nil {
			log.Printf("%v: no file sync", err)
		}
	} else if !os.IsNotExist(err) {
		log.Printf("files roots: %v: no file sync", err)
	}
	return token, roots
}

// listenFreebind listens with IP_FREEBIND: the agent starts before udhcpc gives eth0 its address.
func listenFreebind(addr string) (net.Listener, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_FREEBIND, 1)
		}); err != nil {
			return err
		}
		return serr
	}}
	return lc.Listen(context.Background(), "tcp", addr)
}

// serveHostMetrics serves /metrics for upstream's autoscaler-agent (upstream: vector on :9100). A
// workload that already uses the port only costs the metrics, never the agent.
func serveHostMetrics(addr string) {
	c, err := hostmetrics.New("/proc", hostmetrics.Hostname())
	if err != nil {
		log.Printf("host metrics off: %v", err)
		return
	}
	srv := &http.Server{Addr: addr, Handler: hostmetrics.Handler(c), ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second}
	log.Printf("host metrics on %s: %v", addr, srv.ListenAndServe())
}

func resolveMode(flagValue, runtimeDir string) (string, error) {
	m := flagValue
	if m == "" {
		b, err := os.ReadFile(filepath.Join(runtimeDir, "cpu-scaling-mode"))
		if err != nil && !os.IsNotExist(err) {
			return "", err
		}
		m = strings.TrimSpace(string(b))
	}
	switch m {
	case "", modeQmp:
		return modeQmp, nil
	case modeSysfs:
		return modeSysfs, nil
	}
	return "", fmt.Errorf("unknown cpu scaling mode %q", m)
}

// onlineHotplugged onlines vCPUs as QEMU plugs them (this kernel leaves hot-added CPUs offline and
// the guest has no udev), up to the runner's target. Uevents give low latency; a periodic
// reconcile covers events lost while the socket was not open or overflowed.
func onlineHotplugged(cpus *cpu.Controller) {
	conn, err := uevent.Open()
	if err != nil {
		log.Printf("uevents unavailable, relying on the periodic reconcile: %v", err)
	} else {
		go func() {
			err := conn.Run(func(ev uevent.Event) {
				if id, ok := uevent.CPUAdded(ev); ok {
					if changed, err := cpus.OnAdded(id); err != nil {
						log.Printf("online cpu%d: %v", id, err)
					} else if changed {
						log.Printf("onlined hot-plugged cpu%d", id)
					}
				}
			})
			log.Printf("uevent listener stopped: %v", err)
		}()
	}
	for {
		if changed, err := cpus.Reconcile(); err != nil {
			log.Printf("reconcile online cpus: %v", err)
		} else if changed {
			online, _ := cpus.Online()
			log.Printf("reconciled online cpus to %v (target %d, 0 = all plugged)", online, cpus.Target())
		}
		time.Sleep(2 * time.Second)
	}
}

func watchPowerButton(poweroff string) {
	var devs []string
	var err error
	// The button/evdev modules are loaded by the initramfs, but give the kernel a moment to
	// register the input devices on slow (TCG) boots.
	for i := 0; i < 20; i++ {
		if devs, err = powerbutton.FindDevices("/sys/class/input", "/dev/input"); err == nil {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if err != nil {
		log.Printf("power button: %v (system_powerdown will not work)", err)
		return
	}
	// Pressed again while shutting down (the runner repeats presses the guest may have missed):
	// poweroff runs once.
	var once sync.Once
	for _, dev := range devs {
		go func(dev string) {
			f, err := os.Open(dev)
			if err != nil {
				log.Printf("power button %s: %v", dev, err)
				return
			}
			defer f.Close()
			_ = powerbutton.Watch(f, func() {
				once.Do(func() {
					log.Printf("power button pressed, running %s", poweroff)
					if err := exec.Command(poweroff).Run(); err != nil {
						log.Printf("%s: %v", poweroff, err)
					}
				})
			})
		}(dev)
	}
}
