#!/bin/sh
# Prints the package version, a valid Debian upstream version:
#   tag v1.2.3             -> 1.2.3
#   4 commits after v1.2.3 -> 1.2.3+git4.gabcdef123456
#   no tag                 -> 0.0.0~git20261121162600.abcdef123456
# with ".dirty" appended when the work tree has uncommitted changes.
set -eu
cd "$(dirname "$0")/.."
if ! git rev-parse --git-dir >/dev/null 2>&1; then
	echo 0.0.0~unknown
	exit 0
fi
dirty=
git diff --quiet HEAD -- 2>/dev/null || dirty=.dirty
if d=$(git describe --tags --match 'v[0-9]*' --abbrev=12 2>/dev/null); then
	d=${d#v}
	echo "$d$dirty" | sed 's/-\([0-9][0-9]*\)-g\([0-9a-f]*\)/+git\1.g\2/'
else
	ts=$(git log -1 --format=%cd --date=format:%Y%m%d%H%M%S)
	sha=$(git rev-parse --short=12 HEAD)
	echo "0.0.0~git$ts.$sha$dirty"
fi
