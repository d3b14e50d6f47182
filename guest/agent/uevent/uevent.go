// Package uevent listens to kernel kobject uevents on the netlink socket. The guest has no udev, so
// this is how the agent learns about hot-plugged vCPUs the moment the kernel registers them.
package uevent

import (
	"bytes"
	"fmt"
	"path"
	"strings"
	"syscall"
)

// Event is one kernel uevent: the action ("add", "remove", "online", ...), the sysfs device path
// and all KEY=VALUE properties (SUBSYSTEM, DEVPATH, ...).
type Event struct {
	Action  string
	DevPath string
	Props   map[string]string
}

// Parse decodes a kernel uevent datagram: "action@devpath\0KEY=VALUE\0...". Datagrams from
// user space (udev's "libudev" format) are rejected.
func Parse(msg []byte) (Event, error) {
	fields := bytes.Split(bytes.TrimRight(msg, "\x00"), []byte{0})
	if len(fields) == 0 {
		return Event{}, fmt.Errorf("empty uevent")
	}
	action, devpath, ok := strings.Cut(string(fields[0]), "@")
	if !ok || action == "" {
		return Event{}, fmt.Errorf("not a kernel uevent: %q", fields[0])
	}
	ev := Event{Action: action, DevPath: devpath, Props: map[string]string{}}
	for _, f := range fields[1:] {
		if k, v, ok := strings.Cut(string(f), "="); ok {
			ev.Props[k] = v
		}
	}
	return ev, nil
}

// Conn is an open kernel uevent socket.
type Conn struct{ fd int }

// Open subscribes to kernel uevents. Events emitted after Open returns are queued in the socket
// until Run reads them, so a caller can open, then resync from sysfs, then Run without a gap.
func Open() (*Conn, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, syscall.NETLINK_KOBJECT_UEVENT)
	if err != nil {
		return nil, fmt.Errorf("uevent socket: %w", err)
	}
	// Group 1 = kernel broadcasts (group 2 would be udev's re-broadcasts).
	if err := syscall.Bind(fd, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK, Groups: 1}); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("uevent bind: %w", err)
	}
	return &Conn{fd: fd}, nil
}

// Run calls handle for each event until reading fails; it closes the socket when it returns.
func (c *Conn) Run(handle func(Event)) error {
	defer syscall.Close(c.fd)
	buf := make([]byte, 64*1024)
	for {
		n, _, err := syscall.Recvfrom(c.fd, buf, 0)
		if err == syscall.EINTR || err == syscall.ENOBUFS {
			// ENOBUFS: the kernel dropped events because we were slow; callers resync from sysfs.
			continue
		}
		if err != nil {
			return fmt.Errorf("uevent recv: %w", err)
		}
		if ev, err := Parse(buf[:n]); err == nil {
			handle(ev)
		}
	}
}

// CPUAdded returns the CPU number of a "cpu" subsystem "add" event (a hot-plugged vCPU).
func CPUAdded(ev Event) (int, bool) {
	if ev.Action != "add" || ev.Props["SUBSYSTEM"] != "cpu" {
		return 0, false
	}
	var id int
	if _, err := fmt.Sscanf(path.Base(ev.DevPath), "cpu%d", &id); err != nil {
		return 0, false
	}
	return id, true
}
