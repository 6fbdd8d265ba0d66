//go:build linux

package host

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts the plugin in its own process group and asks the kernel
// to kill it when the host dies (even by SIGKILL, even while the plugin is
// stopped). The parent-death signal follows the host thread that started
// the plugin; procRunner.Start keeps that thread alive as long as the
// plugin.
func setProcAttr(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}

// selfPath is what to exec to run the host's own running image.
func selfPath() (string, error) { return "/proc/self/exe", nil }
