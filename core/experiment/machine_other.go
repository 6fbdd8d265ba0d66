//go:build !linux

package experiment

// pathLimits returns the common NAME_MAX and PATH_MAX where pit does not
// ask the file system.
func pathLimits(string) (nameMax, pathMax int) { return 255, 1024 }

// memAvailable is unknown off Linux: memory checks skip.
func memAvailable() uint64 { return 0 }
