#!/usr/bin/env bash
# Builds the gpsrelay RPM from rpm/gpsrelay.spec and the work tree
# (committed or not), into dist/, and runs rpmlint on it.
#
#   scripts/build-rpm.sh
#
# On this Debian machine this is a build check of the spec: Debian's
# rpmbuild lacks Fedora's macros, so rpm/fallback.macros supplies them
# (loaded only when %cmake is undefined), builds against the Debian
# libraries, and skips the BuildRequires check (--nodeps: there is no RPM
# database of installed packages). The RPM's automatic Requires therefore
# name Debian sonames (e.g. libhiredis.so.0.14), which is fine for a check
# but means this RPM is not for installing on Fedora/RHEL; build it there
# with the same spec for that. Installs rpm and rpmlint (and the build
# dependencies) with apt-get if they are missing. Only one package build
# (deb or rpm) runs at a time on this machine (a lock file).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

scripts/install-deps.sh build rpm

spec=rpm/gpsrelay.spec
version=$(rpmspec -q --srpm --qf '%{version}' "$spec" 2>/dev/null || sed -n 's/^Version:[[:space:]]*//p' "$spec")
work=$(mktemp -d "${TMPDIR:-/tmp}/gpsrelay-rpm.XXXXXX")
trap '[ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT
top=$work/rpmbuild
mkdir -p "$top"/{SOURCES,SPECS,BUILD,RPMS,SRPMS}

# One package build at a time: the machine is small and shared.
exec 9>"${TMPDIR:-/tmp}/gpsrelay-package-build.lock"
flock 9

rsync -a --exclude=/.git --filter=':- .gitignore' "$root/" "$work/gpsrelay-$version/"
tar -C "$work" -czf "$top/SOURCES/gpsrelay-$version.tar.gz" "gpsrelay-$version"
cp systemd/gpsrelay.sysusers "$top/SOURCES/"
cp "$spec" "$top/SPECS/"

args=(--define "_topdir $top" --define "_smp_mflags -j2")
if [ -z "$(rpm --eval '%{?cmake:defined}')" ]; then
  echo "build-rpm.sh: this rpm has no Fedora macros; loading rpm/fallback.macros" >&2
  args+=(--load "$root/rpm/fallback.macros" --nodeps --define "debug_package %{nil}")
fi

echo "build-rpm.sh: building gpsrelay $version in $top" >&2
if ! nice -n 10 rpmbuild -ba "${args[@]}" "$top/SPECS/gpsrelay.spec" >"$work/build.log" 2>&1; then
  tail -n 60 "$work/build.log" >&2
  echo "build-rpm.sh: rpmbuild failed" >&2
  exit 1
fi

mkdir -p dist
rm -f dist/gpsrelay-*.rpm
find "$top/RPMS" "$top/SRPMS" -name '*.rpm' -exec cp {} dist/ \;
ls -1 dist/gpsrelay-*.rpm >&2

# rpmlint: its findings are listed and explained in docs/packaging.md;
# this script reports them but fails only on errors (rpmlint's exit code).
echo "build-rpm.sh: rpmlint" >&2
if rpmlint -c "$root/rpm/rpmlint.toml" "$spec" dist/gpsrelay-*.rpm; then
  echo "build-rpm.sh: rpmlint: no errors"
else
  echo "build-rpm.sh: rpmlint reported errors" >&2
  exit 1
fi
