#!/usr/bin/env bash
# Lazily unmounts every FUSE mount below DIR (tests' leftovers after a crash or a kill)
# and reports how many there were. Exit 0 unless DIR is missing as an argument.
set -u
root=${1:?usage: unmount-under.sh DIR}
[ -d "$root" ] || exit 0
root=$(realpath "$root")
n=0
# Deepest first, so nested mounts come off before their parents.
while read -r mnt; do
  fusermount3 -uz "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
  n=$((n + 1))
done < <(awk -v r="$root/" '{ split($0, a, " - "); split(a[2], f, " ");
                              if (index($5, r) == 1 && f[1] ~ /^fuse/) print $5 }' /proc/self/mountinfo | sort -r)
echo "unmounted $n leftover mount(s) under $root"
