# Sourced by build-deb.sh and build-deb-controlplane.sh after they set
# VERSION, GOARCH, root and die: checks VERSION, sets ARCH (Debian's name
# of GOARCH) and exports SOURCE_DATE_EPOCH (the commit's time unless set),
# for reproducible file times.

echo "$VERSION" | grep -Eq '^[0-9][A-Za-z0-9.+~]*$' ||
	die "VERSION '$VERSION' is not a Debian upstream version (digits first, then letters, digits, . + ~)"

# Go architecture -> Debian architecture.
case $GOARCH in
amd64 | arm64 | riscv64 | s390x | loong64 | mips64el | mipsel) ARCH=$GOARCH ;;
386) ARCH=i386 ;;
arm) ARCH=armhf; GOARM=${GOARM:-7}; export GOARM ;;
ppc64le) ARCH=ppc64el ;;
*) die "no Debian architecture known for GOARCH=$GOARCH" ;;
esac

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(cd "$root" && git log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH
