//go:build !unix

package host

import (
	"os"
	"os/exec"
)

// setProcAttr does nothing where there are no process groups.
func setProcAttr(*exec.Cmd) {}

// selfPath is what to exec to run the host's own executable.
func selfPath() (string, error) { return os.Executable() }

// killGroup kills the plugin process.
func killGroup(p *os.Process, _ int) error { return p.Kill() }

// killGroupOf does nothing where there are no process groups.
func killGroupOf(int) {}
