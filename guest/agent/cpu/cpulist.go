// Package cpu scales the number of online vCPUs through sysfs.
package cpu

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ParseList parses the kernel's CPU list syntax ("0-3,5", "" or "\n" for none) as found in
// /sys/devices/system/cpu/{online,offline,present,possible}. The result is sorted and unique.
func ParseList(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	seen := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		first, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("bad cpu list %q: %w", s, err)
		}
		last := first
		if isRange {
			if last, err = strconv.Atoi(hi); err != nil {
				return nil, fmt.Errorf("bad cpu list %q: %w", s, err)
			}
		}
		if first < 0 || last < first {
			return nil, fmt.Errorf("bad cpu range %q in %q", part, s)
		}
		for c := first; c <= last; c++ {
			seen[c] = true
		}
	}
	out := make([]int, 0, len(seen))
	for c := range seen {
		out = append(out, c)
	}
	sort.Ints(out)
	return out, nil
}
