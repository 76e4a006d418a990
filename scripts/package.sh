#!/usr/bin/env bash
# Builds the Debian package zenfs_<version>_amd64.deb in a Release build of its own (a
# fresh build-package/, as a packager builds: no -Werror, no tests), then checks it on
# this machine, as root: dpkg -i, zenfs --version, a demo store mounted with
# `mount -t fuse.zenfs` and read by another user, the man page renders without warnings,
# `systemd-analyze verify` of the installed unit, lintian without errors; then dpkg -r
# and a purge (nothing stays behind).
# Leaves the .deb in build-package/. Usage: scripts/package.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then echo "package.sh: run as root (it installs the package)" >&2; exit 1; fi
scripts/deps.sh dpkg-dev file lintian man-db systemd
build=build-package
rm -rf "$build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DZENFS_TESTS=OFF \
      -DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON >/dev/null
cmake --build "$build" -j"$(nproc)"
(cd "$build" && cpack -G DEB >/dev/null)
version=$(sed -n 's/^project(zenfs VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
deb=$build/zenfs_${version}_amd64.deb
[ -f "$deb" ] || { echo "package.sh: $deb was not built" >&2; ls "$build" >&2; exit 1; }
echo "== built $deb"
dpkg-deb --info "$deb"
dpkg-deb --contents "$deb"

if dpkg-query -W -f='${Status}' zenfs 2>/dev/null | grep -q "install ok installed"; then
  echo "package.sh: a zenfs package is installed already; remove it first" >&2
  exit 1
fi
if [ -e /usr/local/bin/zenfs ]; then
  # mount(8) runs helpers with PATH=/usr/local/bin:...: that one would be tested instead.
  echo "package.sh: /usr/local/bin/zenfs shadows the package's /usr/bin/zenfs" >&2
  exit 1
fi
scratch=$(mktemp -d /var/tmp/zenfs-package.XXXXXX)
chmod 0755 "$scratch"
created_user=0
cleanup() {
  umount -l "$scratch/mnt" 2>/dev/null || true
  rm -rf "$scratch"
  dpkg --purge zenfs >/dev/null 2>&1 || true
  if [ "$created_user" = 1 ]; then userdel zenfs-package-reader 2>/dev/null || true; fi
}
trap cleanup EXIT

echo "== dpkg -i"
dpkg -i "$deb"
[ "$(stat -c %a /var/cache/zenfs)" = 700 ] || { echo "package.sh: /var/cache/zenfs is not 0700" >&2; exit 1; }
[ "$(command -v zenfs)" = /usr/bin/zenfs ] || { echo "package.sh: zenfs is not /usr/bin/zenfs" >&2; exit 1; }
/usr/bin/zenfs --version

echo "== mount -t fuse.zenfs, read as another user, umount"
if ! id zenfs-package-reader >/dev/null 2>&1; then
  useradd --system --no-create-home --shell /usr/sbin/nologin zenfs-package-reader
  created_user=1
fi
reader="setpriv --reuid=$(id -u zenfs-package-reader) --regid=$(id -g zenfs-package-reader) --clear-groups --"
/usr/bin/zenfs demo "$scratch/store" --schema 0.74 --runs 2 --artifact-bytes 0 >/dev/null
mkdir "$scratch/mnt"
mount -t fuse.zenfs "$scratch/store" "$scratch/mnt" -o allow_other,refresh=5,nofail,_netdev
grep " $scratch/mnt " /proc/self/mountinfo
$reader ls "$scratch/mnt" | grep -qx example_pipeline
$reader cat "$scratch/mnt/meta.json" | grep -q example_pipeline
umount "$scratch/mnt"
if grep -q " $scratch/mnt " /proc/self/mountinfo; then echo "package.sh: still mounted" >&2; exit 1; fi

echo "== man page"
warnings=$(man --warnings -l /usr/share/man/man1/zenfs.1.gz 2>&1 >/dev/null || true)
[ -z "$warnings" ] || { echo "package.sh: man page warnings:" >&2; echo "$warnings" >&2; exit 1; }
man -l /usr/share/man/man1/zenfs.1.gz 2>/dev/null | grep -q "SHARED NODES"

echo "== systemd-analyze verify"
# A template is verified through an instance: the unit for the mountpoint /mnt/zen.
cp /lib/systemd/system/zenfs@.service "$scratch/zenfs@mnt-zen.service"
systemd-analyze verify "$scratch/zenfs@mnt-zen.service"

echo "== lintian"
lintian --fail-on error --info "$deb"

echo "== dpkg -r"
dpkg -r zenfs
[ ! -e /usr/bin/zenfs ] || { echo "package.sh: /usr/bin/zenfs stayed after dpkg -r" >&2; exit 1; }
# Purge: the postrm removes the cache folder, and dpkg forgets the package.
dpkg --purge zenfs
[ ! -e /var/cache/zenfs ] || { echo "package.sh: /var/cache/zenfs stayed after a purge" >&2; exit 1; }
echo "package.sh: $deb passes"
