package vmtest

import (
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// configure makes the image a node of the control plane at endpoint (as
// the guest reaches it) whose CA is caPEM, with systemd-networkd running
// DHCP on eth0 only, and the test's tty1 reader.
func configure(t *testing.T, root, endpoint string, caPEM []byte) {
	t.Helper()
	writeFile(t, root, "etc/hostname", "vmnode\n", 0o644)
	writeFile(t, root, "etc/hosts", "127.0.0.1 localhost\n127.0.1.1 vmnode\n", 0o644)
	writeFile(t, root, "etc/fstab", "/dev/vda / ext4 rw,errors=remount-ro 0 1\n", 0o644)
	writeFile(t, root, "etc/systemd/network/90-wan.network", "[Match]\nName=eth0\n\n[Network]\nDHCP=yes\n", 0o644)
	writeFile(t, root, "etc/nodeconsole/cp-ca.pem", string(caPEM), 0o644)
	writeFile(t, root, "etc/nodeconsole/config.d/10-site.yaml",
		"site:\n  endpoint: "+endpoint+"\n  caCerts: [/etc/nodeconsole/cp-ca.pem]\n", 0o640)
	// Test harness only, not part of the product: answers each line on the
	// vtdump port with tty1's size and text (vcsa header, vcsu cells), so
	// the test can wait for what tty1 shows; for "unit NAME", with the
	// unit's state and a NUL; for "sh COMMAND", with what the shell
	// command printed and a NUL.
	writeFile(t, root, "etc/systemd/system/vtdump.service", `[Unit]
Description=nodeconsole VM test: tty1's text on the vtdump port
Before=getty.target
[Service]
ExecStart=/bin/sh -c 'while [ ! -e /dev/virtio-ports/vtdump ]; do sleep 0.2; done; exec 3<>/dev/virtio-ports/vtdump; while read -r cmd <&3; do case $cmd in unit*) systemctl show -p ActiveState -p Result "$${cmd#unit }" >&3; printf "\\0" >&3;; sh*) sh -c "$${cmd#sh }" </dev/null >&3 2>&1; printf "\\0" >&3;; *) head -c 4 /dev/vcsa1 >&3; cat /dev/vcsu1 >&3;; esac; done'
[Install]
WantedBy=multi-user.target
`, 0o644)
	inRoot(t, root, `chgrp nodeconsole /etc/nodeconsole/config.d/10-site.yaml
		systemctl enable systemd-networkd vtdump.service`)
	if _, err := url.Parse(endpoint); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "usr/bin/nodeconsole")); err != nil {
		t.Fatalf("the package is not installed: %v", err)
	}
}
