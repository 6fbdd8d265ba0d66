//go:build !linux

package nn

import "time"

func cpuTime() time.Duration { return 0 }

func readRSS() uint64 { return 0 }

func peakRSS() uint64 { return 0 }
