# shellcheck shell=bash
# Helpers shared by the benchmark scripts (bench.sh, bench-s3.sh); sourced, not run.

# scripts_build_preadbench BINDIR: prints the path of tests/bench/preadbench.c compiled
# into BINDIR (once per version of the source: its name carries the source's hash).
scripts_build_preadbench() {
  local src hash bin
  src=$(dirname "${BASH_SOURCE[0]}")/../tests/bench/preadbench.c
  hash=$(sha256sum < "$src" | cut -c1-12)
  bin=$1/preadbench-$hash
  if [ ! -x "$bin" ]; then
    mkdir -p "$1"
    cc -O2 -o "$bin.tmp" "$src" >&2 && mv "$bin.tmp" "$bin" || return 1
  fi
  printf '%s\n' "$bin"
}

median() {  # median of the arguments
  printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) exit;
    if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

is_mounted() { awk -v m="$1" '$5 == m { found = 1 } END { exit !found }' /proc/self/mountinfo; }

wait_mounted() {  # wait_mounted MNT PID: until MNT is a mount that answers (30 s), or PID ends
  local i
  for ((i = 0; i < 600; i++)); do
    if is_mounted "$1" && stat "$1" >/dev/null 2>&1; then return 0; fi
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

fmt_time() {  # seconds -> "812 ms" / "3.41 s" / "212 s"
  awk -v t="$1" 'BEGIN { if (t < 0.0995) printf "%.1f ms", t * 1000; else if (t < 0.9995) printf "%.0f ms", t * 1000;
                         else if (t < 99.95) printf "%.2f s", t; else printf "%.0f s", t }'
}

# bench_peers ALLOWED LIST: the peers named in the comma list LIST ("none" for none; each
# one of the space-separated ALLOWED), installed with scripts/deps.sh (apt-get) when
# missing. Prints those that are there, one a line; says which are not on stderr.
bench_peers() {
  local p
  for p in ${2//,/ }; do
    [ "$p" != none ] || continue
    [[ " $1 " == *" $p "* ]] || { echo "unknown peer: $p (one of: $1)" >&2; return 1; }
    command -v "$p" >/dev/null || "$(dirname "${BASH_SOURCE[0]}")/deps.sh" "$p" >&2 || true
    if command -v "$p" >/dev/null; then echo "$p"; else echo "no $p: its column stays empty" >&2; fi
  done
}

# bench_release: for a benchmark's EXIT trap. Ends the command it waits for ($CHILD; timeout(1)
# passes the signal on to the whole command), unmounts (lazily) every mount point of
# MOUNTS still mounted, and ends the daemons of PID_OF still alive (a clean unmount forgets
# its daemon's pid once the process has exited).
bench_release() {
  local m p
  if [ -n "${CHILD:-}" ]; then kill "$CHILD" 2>/dev/null || true; wait "$CHILD" 2>/dev/null || true; fi
  for m in "${MOUNTS[@]}"; do
    if is_mounted "$m"; then fusermount3 -uz "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; fi
  done
  for p in "${PID_OF[@]}"; do
    if kill -0 "$p" 2>/dev/null; then kill "$p" 2>/dev/null || true; fi
  done
}

# bench_env_head TITLE MODE ZENFS REPO: the first lines of a benchmark's environment (the
# machine, its load, the zenfs binary and its commit; ZENFS_COMMIT=… names the commit of a
# binary built elsewhere).
bench_env_head() {
  local commit dirty="" n
  if [ -n "${ZENFS_COMMIT:-}" ]; then
    commit=$ZENFS_COMMIT
  else
    commit=$(git -C "$4" rev-parse --short HEAD 2>/dev/null || echo unknown)
    n=$(git -C "$4" status --porcelain --untracked-files=no 2>/dev/null | wc -l)
    [ "$n" = 0 ] || dirty=" + uncommitted changes in $n file(s)"
  fi
  echo "$1  $(date -u +%Y-%m-%dT%H:%M:%SZ)  ($2 mode)"
  echo "kernel:   $(uname -srm)"
  echo "cpus:     $(nproc) x $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)," \
       "memory $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)," \
       "load at start $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "zenfs:    $3 ($("$3" --version 2>/dev/null | head -1)), commit $commit$dirty"
}
