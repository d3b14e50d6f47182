package powerbutton

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func record(typ, code uint16, value int32) []byte {
	rec := make([]byte, eventSize)
	binary.LittleEndian.PutUint16(rec[16:], typ)
	binary.LittleEndian.PutUint16(rec[18:], code)
	binary.LittleEndian.PutUint32(rec[20:], uint32(value))
	return rec
}

func TestWatchCountsPressesOnly(t *testing.T) {
	var stream bytes.Buffer
	stream.Write(record(evKey, keyPower, 1))
	stream.Write(record(0, 0, 0))            // EV_SYN
	stream.Write(record(evKey, keyPower, 0)) // release
	stream.Write(record(evKey, 30, 1))       // KEY_A
	stream.Write(record(evKey, keyPower, 1))
	presses := 0
	if err := Watch(&stream, func() { presses++ }); err != io.EOF {
		t.Fatalf("Watch: %v", err)
	}
	if presses != 2 {
		t.Fatalf("presses = %d", presses)
	}
}

func TestFindDevices(t *testing.T) {
	sys := t.TempDir()
	for ev, name := range map[string]string{"event0": "Power Button\n", "event1": "AT Translated Set 2 keyboard\n", "event2": "gpio-keys\n"} {
		dir := filepath.Join(sys, ev, "device")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "name"), []byte(name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	devs, err := FindDevices(sys, "/dev/input")
	if err != nil || len(devs) != 2 || devs[0] != "/dev/input/event0" || devs[1] != "/dev/input/event2" {
		t.Fatalf("FindDevices = %v, %v", devs, err)
	}
}
