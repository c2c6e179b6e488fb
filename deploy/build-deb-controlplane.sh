#!/bin/sh
# Builds dist/controlplane_<version>_<arch>.deb (the control plane with a
# hardened systemd unit) with Debian's dpkg-deb. Usually run through
# `make deb-controlplane`. Settings (environment): DIST, VERSION, GOARCH,
# GO as for build-deb.sh; CONTROLPLANE_BIN packages this prebuilt binary.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
src=$here/controlplane
GO=${GO:-go}
DIST=${DIST:-dist}
VERSION=${VERSION:-$(sh "$here/version.sh")}
GOARCH=${GOARCH:-$($GO env GOARCH)}

die() { echo "build-deb-controlplane: $*" >&2; exit 2; }

. "$here/deb-common.sh" # VERSION check, ARCH, SOURCE_DATE_EPOCH

mkdir -p "$DIST"
out="$(cd "$DIST" && pwd)/controlplane_${VERSION}_${ARCH}.deb"
umask 022
work=$(mktemp -d "${TMPDIR:-/tmp}/controlplane-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
pkg=$work/pkg

CHANGELOG_DATE=$(date -u -R -d "@$SOURCE_DATE_EPOCH")

# put SRC DEST MODE: install a file with @VERSION@, @ARCH@, @DATE@, @INSTALLED_SIZE@ filled in.
put() {
	mkdir -p "$(dirname "$2")"
	sed -e "s/@VERSION@/$VERSION/g" -e "s/@ARCH@/$ARCH/g" -e "s/@DATE@/$CHANGELOG_DATE/g" \
		-e "s/@INSTALLED_SIZE@/${INSTALLED_SIZE:-0}/g" "$1" >"$2"
	chmod "$3" "$2"
}

mkdir -p "$pkg/usr/bin"
if [ -n "${CONTROLPLANE_BIN:-}" ]; then
	install -m 0755 "$CONTROLPLANE_BIN" "$pkg/usr/bin/controlplane"
else
	(cd "$root" && CGO_ENABLED=0 GOOS=linux GOARCH=$GOARCH "$GO" build -trimpath \
		-ldflags "-s -w" -o "$pkg/usr/bin/controlplane" ./cmd/controlplane)
	chmod 0755 "$pkg/usr/bin/controlplane"
fi
put "$src/controlplane.service" "$pkg/usr/lib/systemd/system/controlplane.service" 0644
put "$src/sysusers.conf" "$pkg/usr/lib/sysusers.d/controlplane.conf" 0644
put "$src/controlplane.env" "$pkg/etc/controlplane/controlplane.env" 0644
doc=$pkg/usr/share/doc/controlplane
install -D -m 0644 "$root/docs/operations.md" "$doc/operations.md"
install -m 0644 "$here/debian/copyright" "$doc/copyright"
# A native package: the changelog is changelog.gz, in Debian's format.
put "$src/changelog" "$work/changelog" 0644
gzip -9n <"$work/changelog" >"$doc/changelog.gz"
chmod 0644 "$doc/changelog.gz"
install -D -m 0644 "$src/lintian-overrides" "$pkg/usr/share/lintian/overrides/controlplane"

mkdir -p "$pkg/DEBIAN"
INSTALLED_SIZE=$(du -sk --apparent-size "$pkg" | cut -f1)
put "$src/control" "$pkg/DEBIAN/control" 0644
for s in postinst prerm postrm; do
	put "$src/$s" "$pkg/DEBIAN/$s" 0755
done
echo /etc/controlplane/controlplane.env >"$pkg/DEBIAN/conffiles"
(cd "$pkg" && find . -type f ! -path './DEBIAN/*' | sed 's|^\./||' | sort | xargs md5sum) >"$pkg/DEBIAN/md5sums"
find "$pkg" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
dpkg-deb --root-owner-group -Zxz --build "$pkg" "$out" >/dev/null
echo "$out"
