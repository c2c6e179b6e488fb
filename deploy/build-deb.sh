#!/bin/sh
# Builds dist/nodeconsole_<version>_<arch>.deb with Debian's dpkg-deb.
# Usually run through `make deb-nodeconsole` (or `make deb`, which also
# builds the control plane's package). Settings (environment):
#   DIST            output directory (default: dist)
#   VERSION         package and binary version (default: deploy/version.sh)
#   GOARCH          target architecture (default: go env GOARCH); GOARM for arm
#   CONSOLE_USER    console user name (default: nodeadmin)
#   INITIAL_PASSWORD expired first password of a new console user (default:
#                   nodeadmin; empty leaves the account locked until the image
#                   sets a password; @mac: per device, the MAC address of the
#                   first Ethernet port, set at first boot)
#   NODECONSOLE_BIN package this prebuilt binary instead of building one
#   GO              go command (default: go)
# Needs: go (unless NODECONSOLE_BIN), dpkg-deb, GNU coreutils, sed.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
GO=${GO:-go}
DIST=${DIST:-dist}
VERSION=${VERSION:-$(sh "$here/version.sh")}
GOARCH=${GOARCH:-$($GO env GOARCH)}
CONSOLE_USER=${CONSOLE_USER:-nodeadmin}
CONSOLE_GROUP=nodeconsole
INITIAL_PASSWORD=${INITIAL_PASSWORD-nodeadmin}

die() { echo "build-deb: $*" >&2; exit 2; }

echo "$CONSOLE_USER" | grep -Eq '^[a-z_][a-z0-9_-]{0,31}$' ||
	die "CONSOLE_USER '$CONSOLE_USER' is not a valid user name"
[ "$INITIAL_PASSWORD" = @mac ] || echo "$INITIAL_PASSWORD" | grep -Eq '^[A-Za-z0-9._+=-]*$' ||
	die "INITIAL_PASSWORD may only contain letters, digits and . _ + = - (or be @mac)"

# VERSION check, ARCH, SOURCE_DATE_EPOCH (reproducible file times and
# changelog date).
. "$here/deb-common.sh"
CHANGELOG_DATE=$(date -u -R -d "@$SOURCE_DATE_EPOCH")

mkdir -p "$DIST"
out="$(cd "$DIST" && pwd)/nodeconsole_${VERSION}_${ARCH}.deb"

umask 022
work=$(mktemp -d "${TMPDIR:-/tmp}/nodeconsole-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
pkg=$work/pkg

# subst SRC DEST MODE: install a template with the @VARS@ filled in.
subst() {
	mkdir -p "$(dirname "$2")"
	sed -e "s/@CONSOLE_USER@/$CONSOLE_USER/g" \
		-e "s/@CONSOLE_GROUP@/$CONSOLE_GROUP/g" \
		-e "s/@INITIAL_PASSWORD@/$INITIAL_PASSWORD/g" \
		-e "s/@VERSION@/$VERSION/g" \
		-e "s/@ARCH@/$ARCH/g" \
		-e "s/@DATE@/$CHANGELOG_DATE/g" \
		-e "s/@INSTALLED_SIZE@/${INSTALLED_SIZE:-0}/g" \
		"$1" >"$2"
	chmod "$3" "$2"
	if grep -q '@[A-Z_]*@' "$2"; then die "unfilled template variable in $2"; fi
}

# The binary.
mkdir -p "$pkg/usr/bin"
if [ -n "${NODECONSOLE_BIN:-}" ]; then
	install -m 0755 "$NODECONSOLE_BIN" "$pkg/usr/bin/nodeconsole"
else
	(cd "$root" && CGO_ENABLED=0 GOOS=linux GOARCH=$GOARCH "$GO" build -trimpath -tags nodemo \
		-ldflags "-s -w -X main.version=$VERSION" -o "$pkg/usr/bin/nodeconsole" ./cmd/nodeconsole)
	chmod 0755 "$pkg/usr/bin/nodeconsole"
fi

# Helpers, units, system configuration.
subst "$here/lib/login-shell" "$pkg/usr/lib/nodeconsole/login-shell" 0755
subst "$here/lib/register-condition" "$pkg/usr/lib/nodeconsole/register-condition" 0755
subst "$here/lib/initial-password" "$pkg/usr/lib/nodeconsole/initial-password" 0755
units=$pkg/usr/lib/systemd/system
subst "$here/systemd/nodeconsole-network.service" "$units/nodeconsole-network.service" 0644
subst "$here/systemd/nodeconsole-register.service" "$units/nodeconsole-register.service" 0644
subst "$here/systemd/nodeconsole-userdata.service" "$units/nodeconsole-userdata.service" 0644
subst "$here/systemd/nodeconsole-renew.service" "$units/nodeconsole-renew.service" 0644
subst "$here/systemd/nodeconsole-renew.timer" "$units/nodeconsole-renew.timer" 0644
subst "$here/systemd/nodeconsole-initial-password.service" "$units/nodeconsole-initial-password.service" 0644
subst "$here/systemd/getty-tty1.conf" "$units/getty@tty1.service.d/10-nodeconsole.conf" 0644
subst "$here/systemd/serial-getty-ttyS0.conf" "$units/serial-getty@ttyS0.service.d/10-nodeconsole.conf" 0644
subst "$here/lib/sysusers.conf" "$pkg/usr/lib/sysusers.d/nodeconsole.conf" 0644
subst "$here/lib/tmpfiles.conf" "$pkg/usr/lib/tmpfiles.d/nodeconsole.conf" 0644
subst "$here/lib/sysctl.conf" "$pkg/usr/lib/sysctl.d/60-nodeconsole.conf" 0644
subst "$here/lib/cidata.rules" "$pkg/usr/lib/udev/rules.d/61-nodeconsole-cidata.rules" 0644

# Conffiles.
subst "$here/config.yaml" "$pkg/etc/nodeconsole/config.yaml" 0640
mkdir -p "$pkg/etc/nodeconsole/config.d"
chmod 0750 "$pkg/etc/nodeconsole"
# nodeconsole-userdata.service (the console user) writes 50-user-data.yaml here.
chmod 2770 "$pkg/etc/nodeconsole/config.d"
subst "$here/lib/sudoers" "$pkg/etc/sudoers.d/nodeconsole" 0440
subst "$here/lib/issue" "$pkg/etc/issue.d/nodeconsole.issue" 0644

# Documentation.
doc=$pkg/usr/share/doc/nodeconsole
install -D -m 0644 "$root/docs/deploy.md" "$doc/deploy.md"
subst "$here/systemd/autologin.conf" "$doc/examples/autologin.conf" 0644
subst "$here/config.yaml" "$doc/examples/config.yaml" 0644
install -m 0644 "$here/debian/copyright" "$doc/copyright"
# A native package: the changelog is changelog.gz, in Debian's format.
subst "$here/debian/changelog" "$work/changelog" 0644
gzip -9n <"$work/changelog" >"$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"
install -D -m 0644 "$here/debian/lintian-overrides" "$pkg/usr/share/lintian/overrides/nodeconsole"
man=$pkg/usr/share/man/man1
mkdir -p "$man"
subst "$here/nodeconsole.1" "$work/nodeconsole.1" 0644
gzip -9n <"$work/nodeconsole.1" >"$man/nodeconsole.1.gz"
chmod 0644 "$man/nodeconsole.1.gz"

# Control area.
mkdir -p "$pkg/DEBIAN"
INSTALLED_SIZE=$(du -sk --apparent-size "$pkg" | cut -f1)
subst "$here/debian/control" "$pkg/DEBIAN/control" 0644
for s in postinst prerm postrm; do
	subst "$here/debian/$s" "$pkg/DEBIAN/$s" 0755
done
(cd "$pkg" && find etc -type f | sort | sed 's|^|/|') >"$pkg/DEBIAN/conffiles"
(cd "$pkg" && find . -type f ! -path './DEBIAN/*' | sed 's|^\./||' | sort | xargs md5sum) >"$pkg/DEBIAN/md5sums"

# Reproducible: file times from the commit (or SOURCE_DATE_EPOCH), root owner.
find "$pkg" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

dpkg-deb --root-owner-group -Zxz --build "$pkg" "$out" >/dev/null
echo "$out"
