//go:build unix

package host

import (
	"errors"
	"os"
	"syscall"
)

// killGroupOf kills the members of the process group led by pid.
func killGroupOf(pid int) {
	if pid > 0 {
		syscall.Kill(-pid, syscall.SIGKILL)
	}
}

// killGroup kills the process group led by pid (the plugin and everything
// it started that stayed in its group), then the process itself in case it
// left the group.
func killGroup(p *os.Process, pid int) error {
	gerr := syscall.Kill(-pid, syscall.SIGKILL)
	perr := p.Kill()
	if gerr == nil || errors.Is(gerr, syscall.ESRCH) {
		return nil
	}
	if perr == nil || errors.Is(perr, os.ErrProcessDone) {
		return nil
	}
	return gerr
}
