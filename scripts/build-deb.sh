#!/usr/bin/env bash
# Builds the gpsrelay .deb from the work tree (committed or not) and checks
# it with lintian.
#
#   scripts/build-deb.sh
#
# Installs what the build needs if missing (apt-get, idempotent), copies the
# work tree without build*/, dist/ and .git (the .gitignore rules) into a
# temporary directory, runs dpkg-buildpackage -b there under nice with
# DEB_BUILD_OPTIONS="nocheck parallel=2", puts the .deb files into dist/ and
# runs lintian on them: any error or warning fails the script. Only one
# package build (deb or rpm) runs at a time on this machine (a lock file).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/install-deps.sh build deb

export DEB_BUILD_OPTIONS="nocheck parallel=2" DEB_BUILD_PROFILES="nocheck"
version=$(dpkg-parsechangelog -l debian/changelog -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
work=$(mktemp -d "${TMPDIR:-/tmp}/gpsrelay-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
src="$work/gpsrelay-$version"

# One package build at a time: the machine is small and shared.
exec 9>"${TMPDIR:-/tmp}/gpsrelay-package-build.lock"
flock 9

rsync -a --exclude=/.git --filter=':- .gitignore' "$root/" "$src/"
(cd "$src" && dpkg-checkbuilddeps)
echo "build-deb.sh: building gpsrelay $version in $src" >&2
if ! (cd "$src" && nice -n 10 dpkg-buildpackage -b -us -uc >"$work/build.log" 2>&1); then
  tail -n 60 "$work/build.log" >&2
  echo "build-deb.sh: dpkg-buildpackage failed" >&2
  exit 1
fi

mkdir -p dist
rm -f dist/gpsrelay_*.deb dist/gpsrelay-dbgsym_*.deb
cp "$work"/gpsrelay_"$version"_"$arch".deb dist/
cp "$work"/gpsrelay-dbgsym_"$version"_"$arch".*deb dist/ 2>/dev/null || true
deb="dist/gpsrelay_${version}_${arch}.deb"
echo "build-deb.sh: built $deb" >&2

# lintian: errors and warnings fail; info tags are shown but accepted.
# It complains when run as root; that notice is not about the package.
echo "build-deb.sh: lintian dist/gpsrelay*_${version}_${arch}.deb" >&2
if lintian --fail-on error,warning --display-info dist/gpsrelay*_"${version}"_"${arch}".deb \
  2> >(grep -v 'running with root privileges' >&2); then
  echo "build-deb.sh: lintian: no errors or warnings"
else
  echo "build-deb.sh: lintian reported errors or warnings" >&2
  exit 1
fi
