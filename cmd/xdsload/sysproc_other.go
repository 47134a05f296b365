//go:build !linux

package main

import "syscall"

// childSysProcAttr is nil where Pdeathsig does not exist: the child's
// stdin closing still stops it when xdsload exits.
func childSysProcAttr() *syscall.SysProcAttr { return nil }
