//go:build unix

package main

import (
	"os/exec"
	"syscall"
)

// ownGroup makes cmd, once killed, take its children with it: go test
// runs the test binary as a child, which would otherwise live on, hung,
// after its mutant's timeout.
func ownGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
