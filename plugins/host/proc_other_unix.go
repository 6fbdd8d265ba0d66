//go:build unix && !linux

package host

import (
	"os"
	"os/exec"
	"syscall"
)

// setProcAttr puts the plugin in its own process group. There is no
// parent-death signal here: the SDKs' plugins exit when their parent does.
func setProcAttr(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
}

// selfPath is what to exec to run the host's own executable.
func selfPath() (string, error) { return os.Executable() }
