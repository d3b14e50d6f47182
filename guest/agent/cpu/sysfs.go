package cpu

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// Sysfs reads and changes CPU state below Root (normally /sys/devices/system/cpu; a fake directory
// in tests). All methods are safe for concurrent use: SetOnlineCount and OnlineAllPresent are
// serialised by one mutex, like upstream's daemon.
type Sysfs struct {
	Root string
	mu   sync.Mutex
	// held lists CPUs that SetOnlineCount took offline on purpose. The hotplug onliners
	// (OnlineCPU, OnlineAllPresent) leave them alone, so a runner can scale down by offlining and
	// keep the vCPU plugged (QEMU 7.2 under TCG crashes when a device_del'ed slot is re-added).
	held map[int]bool
}

// NewSysfs returns a Sysfs for the given root directory.
func NewSysfs(root string) *Sysfs { return &Sysfs{Root: root} }

func (s *Sysfs) readList(name string) ([]int, error) {
	b, err := os.ReadFile(filepath.Join(s.Root, name))
	if err != nil {
		if os.IsNotExist(err) && name == "offline" {
			return nil, nil
		}
		return nil, err
	}
	return ParseList(string(b))
}

// Online returns the sorted IDs of online CPUs.
func (s *Sysfs) Online() ([]int, error) { return s.readList("online") }

// Present returns the sorted IDs of CPUs the machine has (plugged vCPUs, online or not).
func (s *Sysfs) Present() ([]int, error) { return s.readList("present") }

func (s *Sysfs) write(c Change) error {
	v := "0"
	if c.Online {
		v = "1"
	}
	path := filepath.Join(s.Root, fmt.Sprintf("cpu%d", c.ID), "online")
	if err := os.WriteFile(path, []byte(v), 0o644); err != nil {
		return fmt.Errorf("set cpu%d online=%s: %w", c.ID, v, err)
	}
	return nil
}

// SetOnlineCount brings the number of online CPUs to target (see Plan). A no-op when already there.
func (s *Sysfs) SetOnlineCount(target int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	online, err := s.Online()
	if err != nil {
		return err
	}
	offline, err := s.readList("offline")
	if err != nil {
		return err
	}
	present, err := s.Present()
	if err != nil {
		return err
	}
	// "offline" also lists possible-but-absent CPUs (hot-pluggable slots); only present ones have a
	// cpuN/online file to write.
	changes, err := Plan(online, intersect(offline, present), target)
	if err != nil {
		return err
	}
	for _, c := range changes {
		if err := s.write(c); err != nil {
			return err
		}
		if s.held == nil {
			s.held = make(map[int]bool)
		}
		if c.Online {
			delete(s.held, c.ID)
		} else {
			s.held[c.ID] = true
		}
	}
	return nil
}

// OnlineCPU onlines one CPU if it is offline (used for hot-plugged vCPUs in QMP scaling mode).
// It returns whether a write happened.
func (s *Sysfs) OnlineCPU(id int) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == 0 || s.held[id] {
		return false, nil
	}
	b, err := os.ReadFile(filepath.Join(s.Root, fmt.Sprintf("cpu%d", id), "online"))
	if err != nil {
		return false, err
	}
	if len(b) > 0 && b[0] == '1' {
		return false, nil
	}
	return true, s.write(Change{ID: id, Online: true})
}

// OnlineAllPresent onlines every present CPU that is offline: in QMP scaling mode every plugged
// vCPU is meant to run, so this catches CPUs plugged before the agent started listening for uevents.
func (s *Sysfs) OnlineAllPresent() ([]int, error) {
	present, err := s.Present()
	if err != nil {
		return nil, err
	}
	var onlined []int
	for _, id := range present {
		changed, err := s.OnlineCPU(id)
		if err != nil {
			return onlined, err
		}
		if changed {
			onlined = append(onlined, id)
		}
	}
	return onlined, nil
}

// intersect returns the elements of a (sorted) that are also in b.
func intersect(a, b []int) []int {
	in := make(map[int]bool, len(b))
	for _, x := range b {
		in[x] = true
	}
	var out []int
	for _, x := range a {
		if in[x] {
			out = append(out, x)
		}
	}
	return out
}
