#!/bin/sh
# SPDX-License-Identifier: MIT
# Builds the nbgate Debian package (`make deb`). The source tree (tracked and untracked files
# that git does not ignore, or the tree less build/ without git) is copied to a temporary
# nbgate-VERSION/ with package/debian/ as debian/, dpkg-buildpackage builds the binary package
# there, and the results (.deb, -dbgsym .deb, .buildinfo, .changes, build.log) land in build/deb/.
# The copy lives outside build/ because the root Makefile includes every build/**/*.d it finds
# (the copy's dependency files and its etc/nbgate/conf.d would be among them). The work tree
# stays clean. The last line printed is the path of the .deb. Needs debhelper and dpkg-dev
# (tools/deps.sh --test) and the build dependencies of package/debian/control, which
# dpkg-buildpackage checks.
set -eu
cd "$(dirname "$0")/.."
root=$(pwd)
for c in dpkg-buildpackage dh dpkg-parsechangelog; do
    if ! command -v "$c" >/dev/null; then
        echo "build-deb: $c missing; run: apt-get install dpkg-dev debhelper" \
            "(or make deps-test)" >&2
        exit 1
    fi
done
version=$(sed -n 's/^VERSION *:= *//p' Makefile)
changelog_version=$(dpkg-parsechangelog -l package/debian/changelog -S Version)
if [ "$version" != "$changelog_version" ]; then
    echo "build-deb: Makefile VERSION $version differs from package/debian/changelog" \
        "$changelog_version; add a changelog entry (dch -v $version)" >&2
    exit 1
fi
out=$root/build/deb
work=$(mktemp -d "${TMPDIR:-/tmp}/nbgate-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM
src=$work/nbgate-$version
rm -rf "$out"
mkdir -p "$out" "$src"

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard |
        tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -C "$src" -xf -
else
    tar --exclude=./build --exclude=./nbgate-data -cf - . | tar -C "$src" -xf -
fi
rm -rf "$src/debian"
cp -R package/debian "$src/debian"

arch=$(dpkg --print-architecture)
log=$out/build.log
echo "build-deb: building nbgate $version ($arch) in $src (log: $log)" >&2
jobs=$(nproc 2>/dev/null || echo 1)
if ! (cd "$src" && DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-parallel=$jobs}" \
    dpkg-buildpackage -b -us -uc >"$log" 2>&1); then
    tail -n 40 "$log" >&2
    echo "build-deb: dpkg-buildpackage failed (log: $log)" >&2
    exit 1
fi
for f in "$work"/*.deb "$work"/*.buildinfo "$work"/*.changes; do
    if [ -f "$f" ]; then
        mv "$f" "$out/"
    fi
done
deb=$out/nbgate_${version}_$arch.deb
if [ ! -f "$deb" ]; then
    echo "build-deb: $deb was not produced" >&2
    exit 1
fi
echo "$deb"
