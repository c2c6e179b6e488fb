// Package vmtest boots the freshly built nodeconsole package in a Debian 13
// virtual machine and uses it as a technician would: on the serial console
// (ttyS0) and on the first virtual terminal (tty1, seen through QEMU's
// monitor). Everything is in its tests; see vm_test.go.
package vmtest
