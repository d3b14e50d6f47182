package status

import (
	"strings"
	"testing"
)

func TestMemInfo(t *testing.T) {
	m, err := MemInfo(strings.NewReader("MemTotal:        1012345 kB\nMemFree:  10 kB\nHugePages_Total:       0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m["MemTotal"] != 1012345*1024 || m["MemFree"] != 10240 || m["HugePages_Total"] != 0 {
		t.Fatalf("%v", m)
	}
}
