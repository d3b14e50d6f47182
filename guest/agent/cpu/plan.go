package cpu

import "fmt"

// Change is one sysfs write: bring CPU ID online (true) or offline (false).
type Change struct {
	ID     int
	Online bool
}

// Plan computes the writes that bring the number of online CPUs to target, the way upstream's
// neonvm-daemon does: scale down by offlining the highest-numbered online CPUs first, scale up by
// onlining the lowest-numbered offline CPUs first, never touch CPU 0 (it cannot be offlined on x86
// and is the boot CPU everywhere). online and offline must be sorted ascending.
func Plan(online, offline []int, target int) ([]Change, error) {
	if target < 1 {
		return nil, fmt.Errorf("target %d: at least one CPU must stay online", target)
	}
	var changes []Change
	switch {
	case target < len(online):
		need := len(online) - target
		for i := len(online) - 1; i >= 0 && len(changes) < need; i-- {
			if online[i] != 0 {
				changes = append(changes, Change{ID: online[i], Online: false})
			}
		}
		if len(changes) < need {
			return nil, fmt.Errorf("cannot offline %d CPUs: only %d candidates besides CPU 0", need, len(changes))
		}
	case target > len(online):
		need := target - len(online)
		for _, id := range offline {
			if len(changes) == need {
				break
			}
			if id != 0 {
				changes = append(changes, Change{ID: id, Online: true})
			}
		}
		if len(changes) < need {
			return nil, fmt.Errorf("cannot online %d more CPUs: only %d offline CPUs present", need, len(changes))
		}
	}
	return changes, nil
}

// MilliToCount converts a milli-CPU amount to a CPU count, rounding up (250m → 1, 1001m → 2).
func MilliToCount(milli int64) (int, error) {
	if milli <= 0 {
		return 0, fmt.Errorf("milli-CPU value must be positive, got %d", milli)
	}
	return int((milli + 999) / 1000), nil
}
