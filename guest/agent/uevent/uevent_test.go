package uevent

import "testing"

func TestParseCPUAdd(t *testing.T) {
	msg := []byte("add@/devices/system/cpu/cpu2\x00ACTION=add\x00DEVPATH=/devices/system/cpu/cpu2\x00SUBSYSTEM=cpu\x00SEQNUM=1234\x00")
	ev, err := Parse(msg)
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := CPUAdded(ev); !ok || id != 2 {
		t.Fatalf("CPUAdded = %d, %v", id, ok)
	}
	if ev.Action != "add" || ev.DevPath != "/devices/system/cpu/cpu2" || ev.Props["SUBSYSTEM"] != "cpu" || ev.Props["SEQNUM"] != "1234" {
		t.Fatalf("unexpected %+v", ev)
	}
}

func TestParseRejectsLibudev(t *testing.T) {
	if _, err := Parse([]byte("libudev\x00\xfe\xed\xca\xfe")); err == nil {
		t.Fatal("expected error")
	}
	if _, err := Parse(nil); err == nil {
		t.Fatal("expected error")
	}
}

func TestCPUAddedIgnoresOthers(t *testing.T) {
	for _, ev := range []Event{
		{Action: "online", DevPath: "/devices/system/cpu/cpu1", Props: map[string]string{"SUBSYSTEM": "cpu"}},
		{Action: "add", DevPath: "/devices/virtual/block/loop0", Props: map[string]string{"SUBSYSTEM": "block"}},
		{Action: "add", DevPath: "/devices/system/cpu/cpufreq", Props: map[string]string{"SUBSYSTEM": "cpu"}},
	} {
		if _, ok := CPUAdded(ev); ok {
			t.Errorf("CPUAdded(%+v) = true", ev)
		}
	}
}
