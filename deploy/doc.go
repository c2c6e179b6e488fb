// Package deploy holds what puts nodeconsole on a real node: the Debian
// package built by `make deb` (build-deb.sh), the console user's login shell,
// getty drop-ins for tty1 and ttyS0, the boot-time units, the sudoers file and
// the default /etc/nodeconsole/config.yaml. docs/deploy.md explains them.
//
// The package has no Go code; its tests build the .deb and check it: the file
// list and modes (dpkg-deb -c), the control data (dpkg-deb -I), the units
// (systemd-analyze verify), the sudoers file (visudo -cf), the account and
// state directory (systemd-sysusers, systemd-tmpfiles into a scratch root),
// the helper scripts, and an install and purge in a throwaway overlay root.
package deploy
