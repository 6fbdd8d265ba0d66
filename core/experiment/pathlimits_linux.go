//go:build linux

package experiment

import "golang.org/x/sys/unix"

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
