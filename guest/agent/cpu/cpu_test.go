package cpu

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestParseList(t *testing.T) {
	cases := map[string][]int{
		"":          nil,
		"\n":        nil,
		"0":         {0},
		"0-3\n":     {0, 1, 2, 3},
		"0-1,3,5-6": {0, 1, 3, 5, 6},
		"3,0-1":     {0, 1, 3},
	}
	for in, want := range cases {
		got, err := ParseList(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ParseList(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"a", "1-", "3-1", "-1"} {
		if _, err := ParseList(bad); err == nil {
			t.Errorf("ParseList(%q): expected error", bad)
		}
	}
}

func TestPlan(t *testing.T) {
	cases := []struct {
		online, offline []int
		target          int
		want            []Change
		wantErr         bool
	}{
		{online: []int{0, 1, 2, 3}, target: 4},
		{online: []int{0, 1, 2, 3}, target: 2, want: []Change{{3, false}, {2, false}}},
		{online: []int{0, 2}, offline: []int{1, 3}, target: 4, want: []Change{{1, true}, {3, true}}},
		{online: []int{0}, offline: []int{1, 2, 3}, target: 2, want: []Change{{1, true}}},
		{online: []int{0}, offline: []int{1}, target: 3, wantErr: true},
		{online: []int{0, 1}, target: 0, wantErr: true},
		// CPU 0 offline (only possible on some arches): never brought online or offline by us.
		{online: []int{1, 2}, offline: []int{0}, target: 1, want: []Change{{2, false}}},
	}
	for i, c := range cases {
		got, err := Plan(c.online, c.offline, c.target)
		if (err != nil) != c.wantErr || !reflect.DeepEqual(got, c.want) {
			t.Errorf("case %d: Plan = %v, %v; want %v (err %v)", i, got, err, c.want, c.wantErr)
		}
	}
}

func TestMilliToCount(t *testing.T) {
	for milli, want := range map[int64]int{1: 1, 250: 1, 1000: 1, 1001: 2, 3000: 3} {
		if got, err := MilliToCount(milli); err != nil || got != want {
			t.Errorf("MilliToCount(%d) = %d, %v; want %d", milli, got, err, want)
		}
	}
	if _, err := MilliToCount(0); err == nil {
		t.Error("MilliToCount(0): expected error")
	}
}

// fakeSysfs builds a directory that looks like /sys/devices/system/cpu with `possible` CPUs, of
// which `present` exist and `online` are online. Unlike the kernel it does not keep the summary
// files up to date by itself: call refresh after writes.
type fakeSysfs struct {
	t        *testing.T
	root     string
	possible int
}

func newFakeSysfs(t *testing.T, possible, present int, online []int) *fakeSysfs {
	f := &fakeSysfs{t: t, root: t.TempDir(), possible: possible}
	isOnline := map[int]bool{}
	for _, c := range online {
		isOnline[c] = true
	}
	for c := 0; c < present; c++ {
		f.plug(c, isOnline[c])
	}
	f.refresh()
	return f
}

func (f *fakeSysfs) plug(id int, online bool) {
	dir := filepath.Join(f.root, fmt.Sprintf("cpu%d", id))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.t.Fatal(err)
	}
	v := "0"
	if online {
		v = "1"
	}
	if err := os.WriteFile(filepath.Join(dir, "online"), []byte(v+"\n"), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fakeSysfs) state() (online, offline, present []string) {
	for c := 0; c < f.possible; c++ {
		b, err := os.ReadFile(filepath.Join(f.root, fmt.Sprintf("cpu%d", c), "online"))
		switch {
		case err != nil:
			offline = append(offline, strconv.Itoa(c))
		case strings.TrimSpace(string(b)) == "1":
			online = append(online, strconv.Itoa(c))
			present = append(present, strconv.Itoa(c))
		default:
			offline = append(offline, strconv.Itoa(c))
			present = append(present, strconv.Itoa(c))
		}
	}
	return
}

func (f *fakeSysfs) refresh() {
	online, offline, present := f.state()
	for name, list := range map[string][]string{"online": online, "offline": offline, "present": present} {
		if err := os.WriteFile(filepath.Join(f.root, name), []byte(strings.Join(list, ",")+"\n"), 0o644); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *fakeSysfs) online() string {
	on, _, _ := f.state()
	return strings.Join(on, ",")
}

func TestSetOnlineCountSysfsMode(t *testing.T) {
	// SysfsScaling: 4 vCPUs present, booted with maxcpus=1.
	f := newFakeSysfs(t, 4, 4, []int{0})
	s := NewSysfs(f.root)
	for _, step := range []struct {
		target int
		want   string
	}{{3, "0,1,2"}, {2, "0,1"}, {1, "0"}, {4, "0,1,2,3"}, {4, "0,1,2,3"}} {
		if err := s.SetOnlineCount(step.target); err != nil {
			t.Fatalf("SetOnlineCount(%d): %v", step.target, err)
		}
		f.refresh()
		if got := f.online(); got != step.want {
			t.Fatalf("after SetOnlineCount(%d): online = %s, want %s", step.target, got, step.want)
		}
	}
	if err := s.SetOnlineCount(5); err == nil {
		t.Fatal("SetOnlineCount(5) with 4 present CPUs: expected error")
	}
}

func TestSetOnlineCountIgnoresAbsentCPUs(t *testing.T) {
	// QmpScaling: maxcpus=4 but only 2 plugged; offline lists the empty slots too.
	f := newFakeSysfs(t, 4, 2, []int{0})
	s := NewSysfs(f.root)
	if err := s.SetOnlineCount(2); err != nil {
		t.Fatal(err)
	}
	f.refresh()
	if got := f.online(); got != "0,1" {
		t.Fatalf("online = %s", got)
	}
	if err := s.SetOnlineCount(3); err == nil {
		t.Fatal("expected error: cpu2 is not present")
	}
}

func TestOnlineAllPresent(t *testing.T) {
	f := newFakeSysfs(t, 4, 1, []int{0})
	s := NewSysfs(f.root)
	f.plug(1, false) // hot-plugged vCPUs appear offline
	f.plug(2, false)
	f.refresh()
	got, err := s.OnlineAllPresent()
	if err != nil || !reflect.DeepEqual(got, []int{1, 2}) {
		t.Fatalf("OnlineAllPresent = %v, %v", got, err)
	}
	f.refresh()
	if f.online() != "0,1,2" {
		t.Fatalf("online = %s", f.online())
	}
	if changed, err := s.OnlineCPU(1); changed || err != nil {
		t.Fatalf("OnlineCPU on an online CPU: %v, %v", changed, err)
	}
}

func TestHotplugOnlinerLeavesDeliberatelyOfflinedCPUs(t *testing.T) {
	// QmpScaling scale-down keeps vCPUs plugged and offlines them: the onliner must not undo it.
	f := newFakeSysfs(t, 4, 3, []int{0, 1, 2})
	s := NewSysfs(f.root)
	if err := s.SetOnlineCount(1); err != nil {
		t.Fatal(err)
	}
	f.refresh()
	if got, err := s.OnlineAllPresent(); err != nil || len(got) != 0 {
		t.Fatalf("OnlineAllPresent = %v, %v; want nothing onlined", got, err)
	}
	f.plug(3, false) // a new hot-plugged vCPU is still onlined
	f.refresh()
	if got, err := s.OnlineAllPresent(); err != nil || !reflect.DeepEqual(got, []int{3}) {
		t.Fatalf("OnlineAllPresent = %v, %v; want [3]", got, err)
	}
	f.refresh()
	if err := s.SetOnlineCount(3); err != nil { // scale up again releases the hold
		t.Fatal(err)
	}
	f.refresh()
	if f.online() != "0,1,3" {
		t.Fatalf("online = %s", f.online())
	}
}
