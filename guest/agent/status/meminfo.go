// Package status reads guest facts the runner wants to see (memory size as the kernel sees it).
package status

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// MemInfo parses /proc/meminfo into bytes per key (the "kB" unit is applied).
func MemInfo(r io.Reader) (map[string]uint64, error) {
	out := map[string]uint64{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		key, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseUint(fields[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("meminfo %s: %w", key, err)
		}
		if len(fields) > 1 && fields[1] == "kB" {
			v *= 1024
		}
		out[key] = v
	}
	return out, sc.Err()
}
