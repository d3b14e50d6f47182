package cpu

import (
	"path/filepath"
	"testing"
)

func TestControllerWithoutTargetOnlinesEveryPluggedCPU(t *testing.T) {
	f := newFakeSysfs(t, 4, 1, []int{0})
	c := NewController(NewSysfs(f.root), filepath.Join(t.TempDir(), "cpu-target"))
	f.plug(1, false)
	f.refresh()
	if changed, err := c.OnAdded(1); !changed || err != nil {
		t.Fatalf("OnAdded(1) = %v, %v", changed, err)
	}
	f.plug(2, false) // uevent lost: the sweep catches it
	f.refresh()
	if changed, err := c.Reconcile(); !changed || err != nil {
		t.Fatalf("Reconcile = %v, %v", changed, err)
	}
	f.refresh()
	if f.online() != "0,1,2" {
		t.Fatalf("online = %s", f.online())
	}
}

func TestControllerKeepsScaleDownWhileCPUsStayPlugged(t *testing.T) {
	state := filepath.Join(t.TempDir(), "cpu-target")
	f := newFakeSysfs(t, 4, 3, []int{0, 1, 2})
	c := NewController(NewSysfs(f.root), state)
	if err := c.SetOnlineCount(1); err != nil {
		t.Fatal(err)
	}
	f.refresh()
	// Neither the sweep nor a restarted agent (new controller, same state file) brings them back.
	for _, ctl := range []*Controller{c, NewController(NewSysfs(f.root), state)} {
		if changed, err := ctl.Reconcile(); changed || err != nil {
			t.Fatalf("Reconcile = %v, %v", changed, err)
		}
		f.refresh()
		if f.online() != "0" {
			t.Fatalf("online = %s", f.online())
		}
	}
	// A CPU plugged beyond the target stays offline; one plugged to reach it goes online.
	f.plug(3, false)
	f.refresh()
	if changed, _ := c.OnAdded(3); changed {
		t.Fatal("cpu3 onlined beyond the target")
	}
	if err := c.SetOnlineCount(2); err != nil {
		t.Fatal(err)
	}
	f.refresh()
	if f.online() != "0,1" {
		t.Fatalf("online = %s", f.online())
	}
}

func TestControllerReconcileRestoresTarget(t *testing.T) {
	f := newFakeSysfs(t, 4, 4, []int{0, 1, 2, 3})
	c := NewController(NewSysfs(f.root), "")
	if err := c.SetOnlineCount(3); err != nil {
		t.Fatal(err)
	}
	f.plug(1, false) // someone offlined cpu1 by hand
	f.refresh()
	if changed, err := c.Reconcile(); !changed || err != nil {
		t.Fatalf("Reconcile = %v, %v", changed, err)
	}
	f.refresh()
	if f.online() != "0,1,2" {
		t.Fatalf("online = %s", f.online())
	}
	if c.Target() != 3 {
		t.Fatalf("target = %d", c.Target())
	}
}
