// Package powerbutton turns an ACPI power-button press into a clean poweroff. QEMU's
// system_powerdown (what the runner sends on SIGTERM) presses the virtual ACPI power button; the
// kernel's "button" driver reports it as KEY_POWER on an evdev input device.
package powerbutton

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

const (
	evKey    = 1   // EV_KEY
	keyPower = 116 // KEY_POWER
	// struct input_event on 64-bit: struct timeval (16 bytes), __u16 type, __u16 code, __s32 value.
	eventSize = 24
)

// IsPowerPress reports whether one raw input_event record is a KEY_POWER press (value 1).
func IsPowerPress(rec []byte) bool {
	if len(rec) < eventSize {
		return false
	}
	typ := binary.LittleEndian.Uint16(rec[16:18])
	code := binary.LittleEndian.Uint16(rec[18:20])
	value := int32(binary.LittleEndian.Uint32(rec[20:24]))
	return typ == evKey && code == keyPower && value == 1
}

// FindDevices returns /dev/input/eventN nodes that can report a power-button press, looked up in
// sysClassInput (normally /sys/class/input): the ACPI "Power Button" devices (x86, arm64 with
// ACPI) and "gpio-keys" (arm64 virt with a device tree).
func FindDevices(sysClassInput, devInput string) ([]string, error) {
	names, err := filepath.Glob(filepath.Join(sysClassInput, "event*", "device", "name"))
	if err != nil {
		return nil, err
	}
	var devs []string
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil || !(strings.Contains(string(b), "Power Button") || strings.Contains(string(b), "gpio-keys")) {
			continue
		}
		event := filepath.Base(filepath.Dir(filepath.Dir(n)))
		devs = append(devs, filepath.Join(devInput, event))
	}
	if len(devs) == 0 {
		return nil, fmt.Errorf("no power button input device under %s", sysClassInput)
	}
	return devs, nil
}

// Watch reads input events from r and calls onPress for each power-button press until r fails.
func Watch(r io.Reader, onPress func()) error {
	rec := make([]byte, eventSize)
	for {
		if _, err := io.ReadFull(r, rec); err != nil {
			return err
		}
		if IsPowerPress(rec) {
			onPress()
		}
	}
}
