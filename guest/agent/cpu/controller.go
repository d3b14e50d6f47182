package cpu

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Controller keeps the number of online CPUs where the runner last asked for it (PUT /cpu) while
// vCPUs come and go. The runner scales down by offlining CPUs and keeping them plugged (QEMU 7.2
// under TCG crashes when a slot is re-plugged after device_del), so "plugged" is not "wanted":
// hot-plugged CPUs are onlined only up to the target, and a periodic Reconcile re-applies it.
//
// The target is persisted in a file (on tmpfs) so a restarted agent keeps honouring it; after a
// reboot there is none, and every plugged CPU runs until the runner asks again (the kernel onlines
// all boot CPUs anyway).
type Controller struct {
	sys       *Sysfs
	statePath string
	mu        sync.Mutex
	target    int // 0: no target yet, online every plugged CPU (upstream's udev rule behaviour)
}

// NewController loads a persisted target from statePath (if any).
func NewController(sys *Sysfs, statePath string) *Controller {
	c := &Controller{sys: sys, statePath: statePath}
	if b, err := os.ReadFile(statePath); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n > 0 {
			c.target = n
		}
	}
	return c
}

// Online returns the sorted IDs of online CPUs.
func (c *Controller) Online() ([]int, error) { return c.sys.Online() }

// Present returns the sorted IDs of plugged CPUs.
func (c *Controller) Present() ([]int, error) { return c.sys.Present() }

// Target returns the CPU count last requested (0 if none).
func (c *Controller) Target() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.target
}

// SetOnlineCount records n as the target and brings the online count there.
func (c *Controller) SetOnlineCount(n int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.sys.SetOnlineCount(n); err != nil {
		return err
	}
	c.target = n
	if c.statePath == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(c.statePath), 0o755); err != nil {
		return err
	}
	return os.WriteFile(c.statePath, []byte(strconv.Itoa(n)+"\n"), 0o644)
}

// OnAdded handles a hot-plugged CPU: online it unless the target is already met.
func (c *Controller) OnAdded(id int) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.target > 0 {
		online, err := c.sys.Online()
		if err != nil {
			return false, err
		}
		if len(online) >= c.target {
			return false, nil
		}
	}
	return c.sys.OnlineCPU(id)
}

// Reconcile brings the online CPUs back to the target (as far as plugged CPUs allow), or onlines
// every plugged CPU when there is no target. It returns whether anything changed.
func (c *Controller) Reconcile() (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.target == 0 {
		ids, err := c.sys.OnlineAllPresent()
		return len(ids) > 0, err
	}
	present, err := c.sys.Present()
	if err != nil {
		return false, err
	}
	online, err := c.sys.Online()
	if err != nil {
		return false, err
	}
	want := min(c.target, len(present))
	if len(online) == want {
		return false, nil
	}
	err = c.sys.SetOnlineCount(want)
	if errors.Is(err, os.ErrNotExist) {
		err = nil // a CPU disappeared (device_del) between reads; the next round catches up
	}
	return err == nil, err
}
