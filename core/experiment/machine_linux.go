//go:build linux

package experiment

import (
	"bufio"
	"bytes"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// pathLimits returns NAME_MAX of the file system that holds dir (or would,
// once created: that of its nearest existing ancestor) and PATH_MAX.
func pathLimits(dir string) (nameMax, pathMax int) {
	nameMax, pathMax = 255, unix.PathMax
	var st unix.Statfs_t
	if err := unix.Statfs(existingAncestor(dir), &st); err == nil && st.Namelen > 0 {
		nameMax = int(st.Namelen)
	}
	return nameMax, pathMax
}

// memAvailable returns MemAvailable of /proc/meminfo in bytes: the kernel's
// estimate of what a new process can allocate without swapping. 0 when
// unknown.
func memAvailable() uint64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := bytes.Fields(sc.Bytes())
		if len(f) >= 2 && string(f[0]) == "MemAvailable:" {
			kb, err := strconv.ParseUint(string(f[1]), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
