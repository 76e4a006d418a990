#!/usr/bin/env bash
# Two builds of zenfs against each other on the walk rows, in alternating rounds (A, B, A,
# B, ...), so both meet the same machine noise: did a change make a tree walk slower?
#
#   scripts/bench-ab.sh OLD_COMMIT [NEW_COMMIT]     (NEW defaults to HEAD; root: mounts,
#                                                   drops caches)
# Options (after the commits):
#   --runs N --steps S --outputs O   the store (`zenfs demo --schema 0.74`, no large
#                                    artifact; default 10,000 x 5 x 2, bench.sh's deep shape)
#   --rounds R                       rounds per build (default 3)
#   --work DIR                       builds, store and mountpoint (default
#                                    $ZENFS_BENCH_DIR/ab or /var/tmp/zenfs-bench/ab)
# Rows, each on a fresh mount after `sync; echo 3 > drop_caches`:
#   M   mount, then `ls runs/` of example_pipeline (wall time to a listed runs/)
#   W3  `find MNT` (names only: readdir, no stat of files)
#   W4  `ls -lR MNT` (every entry stat'ed, meta.json sizes included)
# Prints the medians of each build and NEW/OLD (above 1: NEW is slower).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { sed -n 2,16p "$0"; exit 1; }
old=$1; shift
new=HEAD
if [ $# -ge 1 ] && [ "${1#--}" = "$1" ]; then new=$1; shift; fi
runs=10000 steps=5 outputs=2 rounds=3 work=${ZENFS_BENCH_DIR:-/var/tmp/zenfs-bench}/ab
while [ $# -gt 0 ]; do
  case $1 in
    --runs) runs=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --outputs) outputs=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 1 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "needs root (mounts, drop_caches)" >&2; exit 1; }

mkdir -p "$work"
mnt=$work/mnt
mkdir -p "$mnt"
cleanup() { fusermount3 -u "$mnt" 2>/dev/null || true; }
trap cleanup EXIT

# One Release build per commit, in a throwaway worktree; kept under WORK/bin/<sha>.
build_commit() {
  local sha bin tree
  sha=$(git rev-parse --short=12 "$1^{commit}")
  bin=$work/bin/$sha/zenfs
  if [ ! -x "$bin" ]; then
    tree=$work/src-$sha
    rm -rf "$tree"
    git worktree add -q --detach "$tree" "$sha" >&2
    (cd "$tree" && BUILD_DIR=$work/build-$sha BUILD_TARGET=zenfs scripts/build.sh -DCMAKE_BUILD_TYPE=Release >&2)
    mkdir -p "$(dirname "$bin")"
    cp "$work/build-$sha/zenfs" "$bin"
    git worktree remove --force "$tree" >&2
    rm -rf "$work/build-$sha"
  fi
  echo "$bin"
}
bin_a=$(build_commit "$old")
bin_b=$(build_commit "$new")

store=$work/store-$runs-$steps-$outputs
if [ ! -f "$store/.done" ]; then
  rm -rf "$store"
  "$bin_b" demo "$store" --schema 0.74 --runs "$runs" --steps "$steps" --outputs "$outputs" \
    --artifact-bytes 0 >/dev/null
  touch "$store/.done"
fi

now() { echo "$EPOCHREALTIME"; }
fresh_mount() {  # BIN
  cleanup
  sync
  echo 3 >/proc/sys/vm/drop_caches
  "$1" mount "$store" "$mnt"
}
# Prints one row's seconds for BIN.
measure() {  # BIN ROW
  local t0 t1
  t0=$(now)
  case $2 in
    M) fresh_mount "$1"; ls "$mnt/example_pipeline/runs" >/dev/null ;;
    W3) fresh_mount "$1"; t0=$(now); find "$mnt" >/dev/null ;;
    W4) fresh_mount "$1"; t0=$(now); ls -lR "$mnt" >/dev/null ;;
  esac
  t1=$(now)
  cleanup
  echo "$t0 $t1" | awk '{printf "%.3f", $2 - $1}'
}
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

echo "zenfs A/B: OLD $(git rev-parse --short "$old") NEW $(git rev-parse --short "$new"); store $runs runs x $steps steps x $outputs outputs (0.74); $rounds rounds"
echo "$(nproc) CPUs, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-4s %10s %10s %9s   %s\n' row "OLD s" "NEW s" NEW/OLD "samples OLD | NEW"
for row in M W3 W4; do
  sa="" sb=""
  for ((r = 0; r < rounds; r++)); do
    sa="$sa $(measure "$bin_a" "$row")"
    sb="$sb $(measure "$bin_b" "$row")"
  done
  ma=$(echo "$sa" | median) mb=$(echo "$sb" | median)
  printf '%-4s %10s %10s %9s   %s |%s\n' "$row" "$ma" "$mb" "$(awk -v a="$ma" -v b="$mb" 'BEGIN {printf "%.2f", b / a}')" \
    "$sa" "$sb"
done
echo "load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
