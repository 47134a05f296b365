package main

import "syscall"

// childSysProcAttr makes the kernel send the server child SIGTERM when
// xdsload dies, even by SIGKILL (its stdin closing covers the rest), and
// puts it in its own process group so that a Ctrl-C in the terminal
// reaches only xdsload, which then stops the child gracefully: the child
// still writes its profiles and removes its data directory.
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
}
