#!/usr/bin/env bash
# shellcheck disable=SC2016,SC2086,SC2010,SC2012  # single-quoted scripts, split sample lists
# zenfs performance benchmark ("performance at scale"): zenfs against the same tree as plain
# files on local disk (native), through bindfs (a minimal FUSE passthrough: the FUSE peer)
# and through `rclone mount` (a second peer). Prints the environment, then ONE table.
#
#   scripts/bench.sh                  full run (root: drops caches, mounts). Its length is
#                                     zenfs's: with zenfs 0d05f30 on a 2-CPU VM, `--rounds 3
#                                     --walk-rounds 1 --walk-peers bindfs --timeout 300`
#                                     took 25 min (plus 9 min, once, for the native copy).
#   scripts/bench.sh --smoke          CI check that the script works: 2,000 runs x 1 step x
#                                     1 output with an 8 MiB artifact, 1 round, no cache
#                                     dropping, no peers unless --peers, no scaling rows.
#                                     Never fails because a target is missed.
#   scripts/bench.sh --core           also run the core microbenchmarks (zenfs_core_bench)
#
# Options:
#   --rounds N      rounds per figure (default 5); each figure is the median of N runs
#   --walk-rounds N rounds for the whole-tree walks (W3, W4, W3c scaling; default: --rounds),
#                   which cost 100-1000x the other rows on a slow filesystem
#   --timeout S     kill a single command after S seconds (default 600); the figure is then
#                   shown as ">S" and later rounds of that row are skipped for that system
#   --peers LIST    comma list of bindfs,rclone (default both; "none" for none)
#   --walk-peers L  the peers that also run the walks (W3, W4; default: all of --peers);
#                   `--walk-peers bindfs` saves ~10 minutes of rclone walks
#   --pin           run every daemon and every command on CPU 0 (taskset -c 0): one FUSE
#                   round trip then costs ~11 µs instead of 55-60 µs across CPUs
#   --huge          add the 1,000,000-run wide store to the scaling rows (~20 GB, generated
#                   once and kept; not for CI)
#   --no-scaling    skip the scaling rows
#   --deep R,S,O,B  the deep store's shape (runs, steps, outputs, artifact bytes; default
#                   10000,5,2,1G): `--deep 200,1,1,1G --only W1,W2` measures the artifact
#                   rows with a native copy of seconds instead of minutes
#   --only LIST     comma list of W1,W2,W3,W4,W5,W6,M1,M2,S (scaling) to run (default all)
#   --work DIR      cache and scratch dir (default $ZENFS_BENCH_DIR or /var/tmp/zenfs-bench)
#   --zenfs PATH    the zenfs binary (default $ZENFS_BIN; else build with scripts/build.sh
#                   into $BUILD_DIR, default build/, and use that)
#   --table FILE    print the table again from a run's saved samples (WORK/results/*.state)
#   ZENFS_COMMIT=…  label to print as the binary's commit when it was built elsewhere
#
# Stores (`zenfs demo --schema 0.74`: the 0.74 layout keeps figures comparable with
# earlier baselines; size knobs), cached under WORK/stores/runsR-stepsS-outputsO-bytesB
# and reused whenever the same knobs are asked for again (delete the folder to regenerate):
#   deep   10,000 runs x 5 steps x 2 outputs + a 1 GiB model.bin (~530,000 entries)
#   wide   100,000 runs x 1 step x 1 output, no large artifact
#   scaling: deep shape at 2,000 and 50,000 runs (8 MiB model.bin; the 10,000 point is the
#   deep store's W3c), wide shape at 1,000,000 runs with --huge (100,000 is the wide store).
# The native tree is the deep store copied once out of a zenfs mount (`cp -a`, in parallel
# per run) into WORK/native/<store key>; kept between invocations (delete it after a change
# to what zenfs shows). bindfs and rclone mount that native tree read-only.
#
# Cache states (per run of a command):
#   cold   fresh mount, then `sync; echo 3 > /proc/sys/vm/drop_caches` (page, dentry and
#          inode caches all empty; zenfs has already read its index at mount)
#   first  fresh mount while the backing files sit in the page cache (the command ran on
#          an earlier mount with no cache drop since); for native: a warm run
#   again  the same command repeated at once on the same mount
# Rounds alternate systems (zenfs, native, bindfs, rclone, zenfs, ...), and every ratio is
# taken between medians of this invocation. Timing is wall clock (bash $EPOCHREALTIME)
# around the command, including its process start (~1 ms).
#
# W2's helper is a 30-line C program, tests/bench/preadbench.c, compiled on the fly
# (WORK/bin/preadbench-<hash>): 20,000 pread(2)s of 4 KiB at 4 KiB-aligned offsets from a
# fixed-seed xorshift generator, one process, so its own cost (~1 µs per read) stays far
# below any filesystem's.
#
# Exit status: 0 when every command ran (whatever the figures), 1 when a command failed on
# zenfs or native (a peer's failure only blanks its column), 1 on a usage error.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/bench-common.sh disable=SC1091
. "$REPO/scripts/bench-common.sh"

# ---------------------------------------------------------------- options

usage() { sed -n '3,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

ROUNDS=5 TIMEOUT=600 SMOKE=0 HUGE=0 CORE=0 PIN=0 SCALING=1 ONLY="" PEERS_OPT="bindfs,rclone"
ROUNDS_SET=0 PEERS_SET=0 DEEP_OPT="" WALK_ROUNDS="" WALK_PEERS="" TABLE_FILE=""
WORK=${ZENFS_BENCH_DIR:-/var/tmp/zenfs-bench}
ZENFS=${ZENFS_BIN:-}
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) SMOKE=1 ;;
    --rounds) ROUNDS=${2:?--rounds N}; ROUNDS_SET=1; shift ;;
    --walk-rounds) WALK_ROUNDS=${2:?--walk-rounds N}; shift ;;
    --walk-peers) WALK_PEERS=${2:?--walk-peers LIST}; shift ;;
    --timeout) TIMEOUT=${2:?--timeout SECONDS}; shift ;;
    --peers) PEERS_OPT=${2:?--peers LIST}; PEERS_SET=1; shift ;;
    --pin) PIN=1 ;;
    --huge) HUGE=1 ;;
    --core) CORE=1 ;;
    --no-scaling) SCALING=0 ;;
    --only) ONLY=${2:?--only LIST}; shift ;;
    --deep) DEEP_OPT=${2:?--deep RUNS,STEPS,OUTPUTS,BYTES}; shift ;;
    --work) WORK=${2:?--work DIR}; shift ;;
    --zenfs) ZENFS=${2:?--zenfs PATH}; shift ;;
    --table) TABLE_FILE=${2:?--table FILE}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench.sh: unknown option: $1 (see --help)" >&2; exit 1 ;;
  esac
  shift
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh: --rounds wants a positive integer" >&2; exit 1; }
[[ $TIMEOUT =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh: --timeout wants whole seconds" >&2; exit 1; }
[[ ${WALK_ROUNDS:-1} =~ ^[1-9][0-9]*$ ]] || { echo "bench.sh: --walk-rounds wants a positive integer" >&2; exit 1; }

# Store shapes: runs steps outputs artifact-bytes.
DEEP=(10000 5 2 1G)
WIDE=(100000 1 1 0)
SCALE_DEEP=(2000 50000)  # deep shape, 8 MiB artifact; 10,000 = the deep store
SCALE_WIDE=()            # wide shape; 100,000 = the wide store
[ "$HUGE" = 1 ] && SCALE_WIDE=(1000000)
W6_RUNS=1000
DROP=1
if [ -n "$DEEP_OPT" ]; then
  [[ $DEEP_OPT =~ ^[1-9][0-9]*,[1-9][0-9]*,[1-9][0-9]*,[1-9][0-9]*[KMG]?$ ]] \
    || { echo "bench.sh: --deep wants RUNS,STEPS,OUTPUTS,BYTES (e.g. 200,1,1,1G)" >&2; exit 1; }
  IFS=, read -r -a DEEP <<< "$DEEP_OPT"
fi
if [ "$SMOKE" = 1 ]; then
  DEEP=(2000 1 1 8M)
  WIDE=(2000 1 1 8M)   # the same store: one generation
  [ "$ROUNDS_SET" = 1 ] || ROUNDS=1
  DROP=0 SCALING=0
  [ "$PEERS_SET" = 1 ] || PEERS_OPT=none
fi
WALK_ROUNDS=${WALK_ROUNDS:-$ROUNDS}
[ "$(id -u)" = 0 ] || { [ "$DROP" = 0 ] || echo "bench.sh: not root: caches are not dropped (cold = first)" >&2; DROP=0; }

PIN_CMD=()
[ "$PIN" = 1 ] && PIN_CMD=(taskset -c 0)

wanted() { [ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]]; }

# ---------------------------------------------------------------- bookkeeping

declare -A SAMPLES=()   # "ROW/SYS" -> " s1 s2 ..." (seconds, or kB for RSS rows)
declare -A TIMEDOUT=()  # "ROW/SYS" -> 1 when a run hit --timeout
declare -A FAILED=()    # "ROW/SYS" -> 1 when a peer's command failed
declare -A COUNT=()     # "ROW/SYS" -> the command's output (W3's file count)
declare -A DIR_OF=()    # system -> the directory its commands run on
declare -A PID_OF=()    # system -> daemon pid (mounted systems)
PHASES=()               # "name seconds"
PEERS=() W6_FILES="" MODEL_BYTES=""
MOUNTS=()               # every mountpoint this run created

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }
now() { printf '%s' "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.6f", b - a }'; }

# Everything the table needs, after every phase: `--table FILE` prints it again.
save_state() {
  declare -p SAMPLES TIMEDOUT FAILED COUNT PEERS DEEP WIDE W6_RUNS W6_FILES MODEL_BYTES \
    TIMEOUT ROUNDS WALK_ROUNDS SCALING SCALE_DEEP SCALE_WIDE > "$WORK/results/$RUN_ID.state"
}

PHASE_NAME="" PHASE_T0=""
phase() {  # phase NAME: ends the current phase (if any) and starts NAME ("" = none)
  if [ -n "$PHASE_NAME" ]; then PHASES+=("$PHASE_NAME $(elapsed "$PHASE_T0")"); save_state; fi
  PHASE_NAME=$1 PHASE_T0=$(now)
  [ -z "$1" ] || log "== $1"
}

CHILD=""  # the command `timed` is waiting for

cleanup() {
  local m
  bench_release
  for m in "${MOUNTS[@]}"; do rmdir "$m" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

declare -A WARM=()  # system -> the workload whose backing files it last read (until a drop)

drop_caches() {
  [ "$DROP" = 1 ] || return 0
  sync
  echo 3 > /proc/sys/vm/drop_caches
  WARM=()
}

# ---------------------------------------------------------------- setup

setup_tools() {
  local need=(cc timeout find xargs awk)
  if [ -z "$ZENFS" ]; then
    log "building zenfs (scripts/build.sh, BUILD_DIR=${BUILD_DIR:-build})"
    (cd "$REPO" && BUILD_DIR=${BUILD_DIR:-build} scripts/build.sh >&2)
    ZENFS=${BUILD_DIR:-build}/zenfs
    [[ $ZENFS == /* ]] || ZENFS=$REPO/$ZENFS
  fi
  ZENFS=$(realpath -m "$ZENFS")
  [ -x "$ZENFS" ] || die "no zenfs binary at $ZENFS"
  local p peers
  peers=$(bench_peers "bindfs rclone" "$PEERS_OPT") || die "bad --peers $PEERS_OPT"
  PEERS=()
  [ -z "$peers" ] || mapfile -t PEERS <<< "$peers"
  for p in "${need[@]}"; do command -v "$p" >/dev/null || die "needs $p"; done
  [ -e /dev/fuse ] || die "no /dev/fuse"
  mkdir -p "$WORK"/{stores,native,bin,mnt,results}
  RUN_ID=$(date +%Y%m%d-%H%M%S)-$$
  ERRLOG=$WORK/results/$RUN_ID.stderr
  OUT=$WORK/results/$RUN_ID.out
  : > "$ERRLOG"
  : > "$WORK/rclone.conf"
  build_preadbench
}

# W2's helper (tests/bench/preadbench.c, shared with bench-s3.sh). Compiled once per
# source version into WORK/bin.
build_preadbench() {
  PREADBENCH=$(scripts_build_preadbench "$WORK/bin") || die "cannot compile tests/bench/preadbench.c"
}

print_env() {
  bench_env_head "zenfs benchmark" "$([ "$SMOKE" = 1 ] && echo smoke || echo full)" "$ZENFS" "$REPO"
  echo "fuse:     $(fusermount3 -V 2>&1 | head -1)$(for p in "${PEERS[@]}"; do
                    case $p in bindfs) printf '; %s' "$(bindfs --version 2>&1 | head -1)";;
                               rclone) printf '; %s' "$(rclone version 2>/dev/null | head -1)";; esac; done)"
  echo "settings: rounds $ROUNDS (walks $WALK_ROUNDS${WALK_PEERS:+, walk peers $WALK_PEERS}), timeout ${TIMEOUT}s, caches $([ "$DROP" = 1 ] && echo dropped for cold || echo NOT dropped)," \
       "pinning $([ "$PIN" = 1 ] && echo 'taskset -c 0' || echo none), peers ${PEERS[*]:-none}"
  echo "stores:   deep ${DEEP[0]} runs x ${DEEP[1]} steps x ${DEEP[2]} outputs + ${DEEP[3]} artifact;" \
       "wide ${WIDE[0]} runs x ${WIDE[1]} x ${WIDE[2]}; work dir $WORK"
}

# ensure_store RUNS STEPS OUTPUTS BYTES: the store's path (generated once, then reused).
ensure_store() {
  local key="runs$1-steps$2-outputs$3-bytes$4" t0
  local dir=$WORK/stores/$key
  if [ ! -e "$dir/.complete" ]; then
    log "generating $key"
    rm -rf "$dir.tmp" "$dir"
    t0=$(now)
    "$ZENFS" demo "$dir.tmp" --schema 0.74 --runs "$1" --steps "$2" --outputs "$3" \
      --artifact-bytes "$4" >/dev/null \
      || die "zenfs demo failed for $key"
    echo "$1 $2 $3 $4 $(elapsed "$t0")" > "$dir.tmp/.complete"
    mv "$dir.tmp" "$dir"
    log "generated $key in $(cut -d' ' -f5 "$dir/.complete") s"
  fi
  GEN_TIME[$key]=$(cut -d' ' -f5 "$dir/.complete")
  STORE_PATH=$dir
}
declare -A GEN_TIME=()

# ---------------------------------------------------------------- mounts

new_mountpoint() {  # new_mountpoint NAME -> MNTPT
  MNTPT=$WORK/mnt/$RUN_ID-$1
  mkdir -p "$MNTPT"
  MOUNTS+=("$MNTPT")
}

# The daemon `zenfs mount STORE MNT` left behind: the process whose argv is exactly that.
zenfs_daemon_pid() {
  local want="$ZENFS mount $1 $2" f args
  for f in /proc/[0-9]*/cmdline; do
    args=()
    mapfile -d '' -t args < "$f" 2>/dev/null || continue
    if [ "${args[*]:-}" = "$want" ]; then f=${f#/proc/}; echo "${f%/cmdline}"; return 0; fi
  done
  return 1
}

wait_exit() {  # wait_exit PID: until it is gone (10 s), then kill that one pid
  local i
  for ((i = 0; i < 200; i++)); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done
  log "pid $1 still alive 10 s after unmount; killing it"
  kill "$1" 2>/dev/null || true
}

# zenfs answers for the root and the pipelines as soon as it mounts and reads runs, then
# steps and below, in the background right after (M1 measures that mount). Other workloads
# start once a run's steps list, so that their figures are not the one-time read of the
# store's structure.
settle_zenfs() {  # settle_zenfs MNT
  local latest
  for latest in "$1"/*/runs/latest; do
    ls "$latest/steps" > /dev/null 2>&1 || true
    return 0
  done
}

# sys_up SYS [STORE]: a fresh mount of SYS (zenfs: of STORE, default the deep store);
# native has no mount. Sets DIR_OF[SYS]. A peer that fails to mount is dropped.
sys_up() {
  local sys=$1 store=${2:-$DEEP_STORE} pid
  sys_down "$sys"
  case "$sys" in
    native) DIR_OF[native]=$NATIVE; return 0 ;;
    zenfs)
      new_mountpoint zenfs
      "${PIN_CMD[@]}" "$ZENFS" mount "$store" "$MNTPT" 2>>"$ERRLOG" || die "zenfs mount $store failed (see $ERRLOG)"
      pid=$(zenfs_daemon_pid "$store" "$MNTPT") || die "cannot find the zenfs daemon of $MNTPT" ;;
    bindfs)
      new_mountpoint bindfs
      "${PIN_CMD[@]}" bindfs -f -r --no-allow-other "$NATIVE" "$MNTPT" 2>>"$ERRLOG" &
      pid=$! ;;
    rclone)
      new_mountpoint rclone
      "${PIN_CMD[@]}" rclone mount --config "$WORK/rclone.conf" --log-level ERROR --read-only "$NATIVE" "$MNTPT" 2>>"$ERRLOG" &
      pid=$! ;;
  esac
  PID_OF[$sys]=$pid
  DIR_OF[$sys]=$MNTPT
  if ! wait_mounted "$MNTPT" "$pid"; then
    [ "$sys" = zenfs ] && die "the zenfs mount on $MNTPT does not answer"
    log "$sys did not mount; dropping it"
    sys_down "$sys"
    drop_peer "$sys"
    return 1
  fi
  if [ "$sys" = zenfs ]; then settle_zenfs "$MNTPT"; fi
}

sys_down() {
  local sys=$1 mnt=${DIR_OF[$1]:-} pid=${PID_OF[$1]:-}
  if [ "$sys" != native ] && [ -n "$mnt" ]; then
    if is_mounted "$mnt"; then
      if [ "$sys" = zenfs ]; then
        "$ZENFS" umount "$mnt" 2>>"$ERRLOG" || fusermount3 -uz "$mnt" 2>>"$ERRLOG" || true
      else
        fusermount3 -u "$mnt" 2>>"$ERRLOG" || fusermount3 -uz "$mnt" 2>>"$ERRLOG" || true
      fi
    fi
    [ -z "$pid" ] || wait_exit "$pid"
    rmdir "$mnt" 2>/dev/null || true
  fi
  unset "DIR_OF[$sys]" "PID_OF[$sys]"
}

drop_peer() {
  local p keep=()
  for p in "${SYSTEMS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
  SYSTEMS=("${keep[@]}")
}

# ---------------------------------------------------------------- running commands

# timed KEY SYS SCRIPT [ARGS...]: runs `bash -c SCRIPT _ DIR_OF[SYS] ARGS...` once under the
# timeout and appends its wall time to SAMPLES[KEY/SYS]. A key that timed out before is
# not run again. A failure is fatal for zenfs and native; a peer's only marks the key.
timed() {
  local key=$1/$2 sys=$2 script=$3 t0 t rc=0
  shift 3
  [ -z "${TIMEDOUT[$key]:-}${FAILED[$key]:-}" ] || return 0
  t0=$(now)
  # In the background and waited for, so that a signal to this script acts at once.
  "${PIN_CMD[@]}" timeout -k 10 "$TIMEOUT" bash -c "set -o pipefail; $script" _ "${DIR_OF[$sys]}" "$@" \
    > "$OUT" 2>>"$ERRLOG" < /dev/null &
  CHILD=$!
  wait "$CHILD" || rc=$?
  CHILD=""
  t=$(elapsed "$t0")
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    TIMEDOUT[$key]=1
    SAMPLES[$key]+=" $TIMEOUT"
    log "  $key: timed out after ${TIMEOUT}s"
    return 0
  fi
  if [ "$rc" != 0 ]; then
    if [ "$sys" = zenfs ] || [ "$sys" = native ]; then
      die "$key: exit $rc from: $script (on ${DIR_OF[$sys]}); stderr in $ERRLOG"
    fi
    FAILED[$key]=1
    log "  $key: $sys failed (exit $rc); see $ERRLOG"
    return 0
  fi
  SAMPLES[$key]+=" $t"
  COUNT[$key]=$(head -c 200 "$OUT" | tr -d '\n')
  log "  $key: $t s"
}

# warm_backing SYS SCRIPT [ARGS...]: brings what SYS reads into the page cache, straight
# from its backing files (untimed): the script on the native tree for native and the
# peers; for zenfs its database and a stat of every file of its store.
warm_backing() {
  local sys=$1 script=$2
  shift 2
  if [ "$sys" = zenfs ]; then
    cat "$DEEP_STORE/local_stores/default_zen_store/zenml.db" > /dev/null
    find "$DEEP_STORE" -printf '' || die "cannot read $DEEP_STORE"
  else
    bash -c "set -o pipefail; $script" _ "$NATIVE" "$@" > /dev/null 2>>"$ERRLOG" || die "warming $sys failed: $script"
  fi
}

# measure ROW STATES SCRIPT [ARGS...]: the rows ROWc/ROWf/ROWa (for the states asked, a
# subset of "c f a") for every system, ROUNDS times, systems alternating within a round.
measure() {
  local row=$1 states=$2 r sys done_any rounds=${MEASURE_ROUNDS:-$ROUNDS}
  shift 2
  for ((r = 1; r <= rounds; r++)); do
    log "$row round $r/$rounds"
    for sys in "${SYSTEMS[@]}"; do
      if [ -n "${MEASURE_WALK:-}" ] && [ -n "$WALK_PEERS" ] && [ "$sys" != zenfs ] && [ "$sys" != native ] \
         && [[ ",$WALK_PEERS," != *",$sys,"* ]]; then
        continue
      fi
      done_any=0
      if [[ $states == *c* ]]; then
        sys_up "$sys" || continue
        drop_caches
        timed "${row}c" "$sys" "$@"
        [[ $states != *a* ]] || timed "${row}a" "$sys" "$@"
        done_any=1
      fi
      if [[ $states == *f* ]]; then
        if [ "$done_any" = 0 ] && [ "${WARM[$sys]:-}" != "$row" ]; then
          warm_backing "$sys" "$@"
        fi
        sys_up "$sys" || continue
        timed "${row}f" "$sys" "$@"
        [[ $states == *c* || $states != *a* ]] || timed "${row}a" "$sys" "$@"
      fi
      sys_down "$sys"
      WARM[$sys]=$row
    done
  done
}

# ---------------------------------------------------------------- workloads

# The scripts run as `bash -c SCRIPT _ DIR [ARGS]`: $1 is the mount (or native tree).
# MODEL: the 1 GiB artifact's path, through the run folder itself rather than `latest`
# (rclone shows no symlinks); set by ensure_native.
W1_SH='cat "$1/$MODEL" > /dev/null'
W2_SH='"$2" "$1/$MODEL" 20000 4096 42'
W3_SH='find "$1" -type f | wc -l'
W4_SH='ls -lR "$1/example_pipeline" > /dev/null'
W5_SH='ls "$1/example_pipeline/runs" > /dev/null'
W6_SH='cd "$1" && xargs -d "\n" cat < "$2" > /dev/null'

# The native tree: the deep store copied out of a zenfs mount once. Each pipeline's runs
# are copied by parallel `cp -a` (the daemon serves several requests at once).
ensure_native() {
  local key=$1 jobs t0 tmp p e
  NATIVE=$WORK/native/$key
  if [ ! -e "$NATIVE.complete" ]; then
    log "materializing $key as plain files in $NATIVE (once)"
    t0=$(now)
    tmp=$NATIVE.tmp
    rm -rf "$tmp" "$NATIVE"
    mkdir -p "$tmp"
    sys_up zenfs "$DEEP_STORE"
    local src=${DIR_OF[zenfs]}
    jobs=$(( $(nproc) * 2 ))
    for e in "$src"/* "$src"/.[!.]*; do
      [ -e "$e" ] || [ -L "$e" ] || continue
      if [ -d "$e" ] && [ ! -L "$e" ] && [ -d "$e/runs" ]; then
        p=$(basename "$e")
        mkdir "$tmp/$p" "$tmp/$p/runs"
        for f in "$e"/*; do [ "$(basename "$f")" = runs ] || cp -a "$f" "$tmp/$p/" || die "cp -a $f"; done
        (cd "$e/runs" && find . -mindepth 1 -maxdepth 1 -printf '%f\0' | xargs -0 -r -n 64 -P "$jobs" cp -a -t "$tmp/$p/runs" --) \
          || die "copying $e/runs out of zenfs failed"
        chmod --reference="$e/runs" "$tmp/$p/runs"; touch -r "$e/runs" "$tmp/$p/runs"
        chmod --reference="$e" "$tmp/$p"; touch -r "$e" "$tmp/$p"
      else
        cp -a "$e" "$tmp/" || die "cp -a $e"
      fi
    done
    chmod --reference="$src" "$tmp"; touch -r "$src" "$tmp"
    sys_down zenfs
    mv "$tmp" "$NATIVE"
    elapsed "$t0" > "$NATIVE.complete"
    log "materialized in $(cat "$NATIVE.complete") s"
  fi
  NATIVE_TIME=$(cat "$NATIVE.complete")
  # W6's list: every meta.json under the first W6_RUNS run folders (ls order).
  W6_LIST=$NATIVE.w6list
  if [ ! -s "$W6_LIST" ]; then
    (cd "$NATIVE" && ls example_pipeline/runs | awk -v n="$W6_RUNS" '$0 != "latest" && k++ < n' > "$W6_LIST.runs" \
      && find example_pipeline/runs -name meta.json \
         | awk -F/ 'NR == FNR { keep[$0]; next } ($3 in keep)' "$W6_LIST.runs" - | LC_ALL=C sort > "$W6_LIST") \
      || die "cannot list W6's files"
    rm -f "$W6_LIST.runs"
  fi
  W6_FILES=$(wc -l < "$W6_LIST")
  local latest
  latest=$(readlink "$NATIVE/training_pipeline/runs/latest") || die "no training_pipeline/runs/latest in $NATIVE"
  export MODEL=training_pipeline/runs/$latest/steps/train_model/outputs/model/model.bin
  MODEL_BYTES=$(stat -c %s "$NATIVE/$MODEL") || die "no $MODEL in $NATIVE"
}

bench_w1() { measure W1 "c f a" "$W1_SH"; }
bench_w2() { measure W2 "c" "$W2_SH" "$PREADBENCH"; }
bench_w3() { MEASURE_WALK=1 MEASURE_ROUNDS=$WALK_ROUNDS measure W3 "c a" "$W3_SH"; }
bench_w4() { MEASURE_WALK=1 MEASURE_ROUNDS=$WALK_ROUNDS measure W4 "f a" "$W4_SH"; }
bench_w6() { measure W6 "f" "$W6_SH" "$W6_LIST"; }

# M1 (mount to the first `ls` of the root), M1r (to the first `ls runs/` after it), M1s (to
# a run's steps/ listed after that) on one fresh mount, then W5 (`ls runs/`, first) on a
# second one once it has settled, plus that daemon's VmHWM. ROW_SUFFIX tells scaling
# points apart.
bench_wide() {
  local store=$1 sfx=$2 r t0 pid
  for ((r = 1; r <= ROUNDS; r++)); do
    log "M1/W5$sfx round $r/$ROUNDS"
    cat "$store/local_stores/default_zen_store/zenml.db" > /dev/null  # backing file in page cache
    new_mountpoint zenfs
    t0=$(now)
    "${PIN_CMD[@]}" "$ZENFS" mount "$store" "$MNTPT" 2>>"$ERRLOG" || die "zenfs mount $store failed"
    ls "$MNTPT" > /dev/null || die "ls of a fresh zenfs mount failed"
    SAMPLES[M1$sfx/zenfs]+=" $(elapsed "$t0")"
    ls "$MNTPT/example_pipeline/runs" > /dev/null || die "ls runs/ of a fresh zenfs mount failed"
    SAMPLES[M1r$sfx/zenfs]+=" $(elapsed "$t0")"
    settle_zenfs "$MNTPT"
    SAMPLES[M1s$sfx/zenfs]+=" $(elapsed "$t0")"
    log "  M1$sfx: $(echo "${SAMPLES[M1$sfx/zenfs]}" | awk '{ print $NF }') s," \
        "M1r: $(echo "${SAMPLES[M1r$sfx/zenfs]}" | awk '{ print $NF }') s," \
        "M1s: $(echo "${SAMPLES[M1s$sfx/zenfs]}" | awk '{ print $NF }') s"
    pid=$(zenfs_daemon_pid "$store" "$MNTPT") || die "cannot find the zenfs daemon of $MNTPT"
    PID_OF[zenfs]=$pid; DIR_OF[zenfs]=$MNTPT
    sys_down zenfs
    sys_up zenfs "$store"
    timed "W5f$sfx" zenfs "$W5_SH"
    SAMPLES[M2w$sfx/zenfs]+=" $(awk '/^VmHWM/ { print $2 }' "/proc/${PID_OF[zenfs]}/status")"
    log "  VmHWM: $(echo "${SAMPLES[M2w$sfx/zenfs]}" | awk '{ print $NF }') kB"
    sys_down zenfs
  done
}

# M2: the deep store's daemon VmHWM after the W3, W4, W6 set, run twice on one mount.
bench_rss() {
  local set
  sys_up zenfs
  for set in 1 2; do
    log "M2 set $set"
    timed "M2set${set}W3" zenfs "$W3_SH"
    timed "M2set${set}W4" zenfs "$W4_SH"
    timed "M2set${set}W6" zenfs "$W6_SH" "$W6_LIST"
    SAMPLES[M2.$set/zenfs]=" $(awk '/^VmHWM/ { print $2 }' "/proc/${PID_OF[zenfs]}/status")"
    log "  VmHWM after set $set: $(echo "${SAMPLES[M2.$set/zenfs]}" | tr -d ' ') kB"
  done
  sys_down zenfs
}

# Scaling: W3c over deep stores of other sizes, M1/W5 over wide ones (zenfs only).
bench_scaling() {
  local n saved=("${SYSTEMS[@]}")
  SYSTEMS=(zenfs)
  for n in "${SCALE_DEEP[@]}"; do
    ensure_store "$n" "${DEEP[1]}" "${DEEP[2]}" 8M
    local store=$STORE_PATH r
    for ((r = 1; r <= WALK_ROUNDS; r++)); do
      log "W3c@$n round $r/$WALK_ROUNDS"
      sys_up zenfs "$store"
      drop_caches
      timed "W3c@$n" zenfs "$W3_SH"
      sys_down zenfs
    done
  done
  for n in "${SCALE_WIDE[@]}"; do
    ensure_store "$n" "${WIDE[1]}" "${WIDE[2]}" "${WIDE[3]}"
    bench_wide "$STORE_PATH" "@$n"
  done
  SYSTEMS=("${saved[@]}")
}

bench_core() {
  local bin
  bin=$(dirname "$ZENFS")/zenfs_core_bench
  if [ ! -x "$bin" ]; then
    log "no $bin (needs libbenchmark-dev at configure time); skipping --core"
    return 0
  fi
  local runs=20000
  [ "$SMOKE" = 0 ] || runs=2000
  echo
  echo "core microbenchmarks ($bin, store WORK/stores/core-runs$runs):"
  ZENFS_CORE_BENCH_RUNS=$runs ZENFS_CORE_BENCH_STORE=$WORK/stores/core-runs$runs \
    "${PIN_CMD[@]}" "$bin" --benchmark_counters_tabular=true 2>&1 || die "zenfs_core_bench failed"
}

# ---------------------------------------------------------------- the table

# figure ROW SYS KIND -> sets FIG (display), VAL (median seconds or kB), BOUND (""|">"|"<")
figure() {
  local key=$1/$2 kind=$3
  FIG="" VAL="" BOUND=""
  if [ -n "${FAILED[$key]:-}" ]; then FIG="error"; return; fi
  [ -n "${SAMPLES[$key]:-}" ] || return 0
  # shellcheck disable=SC2086
  VAL=$(median ${SAMPLES[$key]})
  [ -z "${TIMEDOUT[$key]:-}" ] || BOUND=">"
  case "$kind" in
    thr) FIG=$(awk -v b="$MODEL_BYTES" -v t="$VAL" 'BEGIN { printf "%.0f MiB/s", b / 1048576 / t }')
         [ -z "$BOUND" ] || FIG="<$FIG" ;;
    rss) FIG=$(awk -v k="$VAL" 'BEGIN { printf "%.0f MiB", k / 1024 }') ;;
    *)   FIG="$BOUND$(fmt_time "$VAL")" ;;
  esac
}

# ratio KIND ZVAL PVAL -> "0.83x" (thr/speed: peer time / zenfs time; time: zenfs / peer)
ratio() {
  awk -v k="$1" -v z="$2" -v p="$3" 'BEGIN { if (z <= 0 || p <= 0) exit;
    r = (k == "thr" || k == "speed") ? p / z : z / p; printf "%.2f", r }'
}

sym() { printf '%s' "$1"; }  # ASCII, so that printf's widths line up

# check VALUE OP TARGET -> PASS / MISS
check() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { ok = (op == ">=") ? v >= t : v <= t; print ok ? "PASS" : "MISS" }'; }

# One table row. Spec: ID;what;kind;targets, targets space-separated: native>=X bindfs<=X
# abs<=SECONDS rss<=MIB flat.
print_row() {
  local id what kind targets
  IFS=';' read -r id what kind targets <<< "$1"
  local zkey=$id zfig zval zb verdict="" tgt_text="" t sys op val r
  figure "$zkey" zenfs "$kind"; zfig=$FIG zval=$VAL zb=$BOUND
  declare -A fig=() rat=()
  for sys in native "${PEERS[@]}"; do
    figure "$zkey" "$sys" "$kind"; fig[$sys]=$FIG
    r=""
    if [ -n "$zval" ] && [ -n "$VAL" ] && [ "$FIG" != error ]; then
      r=$(ratio "$kind" "$zval" "$VAL")
      [ -z "$r" ] || r="${r}x"
      # A timeout makes the ratio a bound: zenfs's raises a time ratio (lowers a speed
      # ratio), the peer's the other way round; with both, nothing is known.
      if [ -n "$r" ] && [ -n "$zb" ] && [ -n "$BOUND" ]; then r="?"
      elif [ -n "$r" ] && [ -n "$zb" ]; then [ "$kind" = time ] && r=">$r" || r="<$r"
      elif [ -n "$r" ] && [ -n "$BOUND" ]; then [ "$kind" = time ] && r="<$r" || r=">$r"; fi
    fi
    rat[$sys]=$r
  done
  if [ "$id" = M1w ]; then zfig="n/a"; fi
  for t in $targets; do
    case "$t" in
      native*|bindfs*) sys=${t%%[<>]*}; op=${t#"$sys"}; op=${op:0:2}; val=${t#"$sys$op"}
        tgt_text+="$(sym "$op")${val}x $sys, "
        r=${rat[$sys]:-}
        if [ -z "$r" ] || [ "$r" = "?" ]; then verdict+=" n/a"
        elif [[ $r == \>* && $op == "<=" ]] || [[ $r == \<* && $op == ">=" ]]; then verdict+=" MISS"
        elif [[ $r == [\<\>]* ]]; then  # a bound on the right side of the target: PASS or unknown
          [ "$(check "${r:1:-1}" "$op" "$val")" = PASS ] && verdict+=" PASS" || verdict+=" n/a"
        else verdict+=" $(check "${r%x}" "$op" "$val")"; fi ;;
      abs*) op=${t:3:2}; val=${t:5}
        tgt_text+="$(sym "$op")${val} s, "
        if [ -z "$zval" ]; then verdict+=" n/a"; else verdict+=" $(check "$zval" "$op" "$val")"; fi ;;
      rss*) op=${t:3:2}; val=${t:5}
        tgt_text+="$(sym "$op")${val} MiB, "
        if [ -z "$zval" ]; then verdict+=" n/a"; else verdict+=" $(check "$zval" "$op" "$((val * 1024))")"; fi ;;
      flat) tgt_text+="flat on repeat, "
        local v1 v2
        # shellcheck disable=SC2086
        v1=$(median ${SAMPLES[M2.1/zenfs]:-0}); v2=$(median ${SAMPLES[M2.2/zenfs]:-0})
        if [ "$v1" = 0 ]; then verdict+=" n/a"; else verdict+=" $(check "$v2" "<=" "$(awk -v a="$v1" 'BEGIN { print a * 1.1 }')")"; fi ;;
    esac
  done
  tgt_text=${tgt_text%, }
  case "$verdict" in
    "") verdict="—" ;;
    *MISS*) verdict="MISS" ;;
    *n/a*) verdict="n/a" ;;
    *) verdict="PASS" ;;
  esac
  [ -n "$tgt_text" ] || tgt_text="—"
  printf '%-5s %-38s %12s %12s' "$id" "$what" "${zfig:-—}" "${fig[native]:-—}"
  for sys in "${PEERS[@]}"; do printf ' %12s' "${fig[$sys]:-—}"; done
  printf ' %9s' "${rat[native]:-—}"
  for sys in "${PEERS[@]}"; do printf ' %9s' "${rat[$sys]:-—}"; done
  printf '  %-30s %s\n' "$tgt_text" "$verdict"
}

print_table() {
  local sys
  echo
  printf '%-5s %-38s %12s %12s' row workload zenfs native
  for sys in "${PEERS[@]}"; do printf ' %12s' "$sys"; done
  printf ' %9s' "z/native"
  for sys in "${PEERS[@]}"; do printf ' %9s' "z/$sys"; done
  printf '  %-30s %s\n' target result
  local big="${DEEP[3]}"
  big=${big/G/ GiB}; big=${big/M/ MiB}
  local rows=(
    "W1c;cat $big artifact, cold;thr;bindfs>=1"
    "W1f;cat $big artifact, first;thr;bindfs>=1.2"
    "W1a;cat $big artifact, again;thr;native>=0.8"
    "W2c;20,000 random 4 KiB preads, cold;speed;bindfs>=1"
    "W3c;find -type f | wc -l (deep), cold;time;bindfs<=1"
    "W3a;find -type f | wc -l (deep), again;time;native<=2"
    "W4f;ls -lR example_pipeline, first;time;bindfs<=0.5"
    "W4a;ls -lR example_pipeline, again;time;bindfs<=0.5"
    "W5f;ls runs/ (${WIDE[0]} runs), first;time;abs<=1"
    "W6f;cat meta.json of $W6_RUNS runs, first;time;bindfs<=1"
    "M1;mount to first ls (${WIDE[0]} runs);time;abs<=1"
    "M1w;same with a warm index;time;abs<=0.2"
    "M1r;then ls runs/ (${WIDE[0]} runs);time;"
    "M1s;then a run's steps/ (${WIDE[0]} runs);time;"
    "M2.1;VmHWM after W3,W4,W6 (deep);rss;rss<=256"
    "M2.2;VmHWM after W3,W4,W6 again;rss;rss<=256 flat"
    "M2w;VmHWM after M1+W5 (${WIDE[0]} runs);rss;"
  )
  local row
  for row in "${rows[@]}"; do print_row "$row"; done
  echo "ratios: zenfs/peer for times, peer/zenfs (zenfs's speed relative to the peer) for throughput rows;" \
       "'>' and '<' are bounds from a timeout (--timeout $TIMEOUT), '?' when both timed out."
  echo "native 'first' = a warm run (no mount to refresh). W6: $W6_FILES files. W1: $MODEL_BYTES bytes." \
       "M1w: n/a (no persistent index; the mount reads no runs, see M1)."
  [[ " ${PEERS[*]} " != *" rclone "* ]] || echo "rclone shows no symlinks (latest, output): its W4 lists fewer entries."
  if [ "$SCALING" = 1 ]; then
    echo
    echo "scaling (zenfs only; W3c median of $WALK_ROUNDS, wide rows of $ROUNDS):"
    local n k v files
    for n in $(printf '%s\n' "${SCALE_DEEP[@]}" "${DEEP[0]}" | sort -n); do
      [ "$n" = "${DEEP[0]}" ] && k=W3c || k=W3c@$n
      figure "$k" zenfs time
      files=${COUNT[$k/zenfs]:-}
      v=""
      [ -z "$VAL" ] || [ -z "$files" ] || [ -n "$BOUND" ] \
        || v=$(awk -v t="$VAL" -v n="$files" 'BEGIN { if (n > 0) printf "(%d files, %.0f µs per file)", n, t / n * 1e6 }')
      printf '  deep shape, %8s runs:  W3c %10s  %s\n' "$n" "${FIG:-—}" "$v"
    done
    for n in "${WIDE[0]}" "${SCALE_WIDE[@]}"; do
      [ "$n" = "${WIDE[0]}" ] && k="" || k=@$n
      figure "W5f$k" zenfs time; local w5=$FIG
      figure "M1$k" zenfs time; local m1=$FIG
      figure "M1r$k" zenfs time; local m1r=$FIG
      figure "M1s$k" zenfs time; local m1s=$FIG
      figure "M2w$k" zenfs rss
      printf '  wide shape, %8s runs:  W5f %10s   M1 %10s   M1r %10s   M1s %10s   VmHWM %s\n' \
        "$n" "${w5:-—}" "${m1:-—}" "${m1r:-—}" "${m1s:-—}" "${FIG:-—}"
    done
  fi
}

print_phases() {
  local p
  echo
  echo "phases (wall time):"
  for p in "${PHASES[@]}"; do printf '  %-34s %8.1f s\n' "${p% *}" "${p##* }"; done
  for p in "${!GEN_TIME[@]}"; do printf '  generation of %-38s %6.1f s (once; cached)\n' "$p" "${GEN_TIME[$p]}"; done | sort
  [ -z "${NATIVE_TIME:-}" ] || printf '  %-34s %8.1f s (once; cached)\n' "native materialization" "$NATIVE_TIME"
  local n
  n=$(grep -c . "$ERRLOG" || true)
  [ "$n" = 0 ] || echo "stderr of commands and daemons: $n line(s) in $ERRLOG"
  if [ -n "${COUNT[W3c/zenfs]:-}" ] && [ -n "${COUNT[W3c/native]:-}" ] && [ "${COUNT[W3c/zenfs]}" != "${COUNT[W3c/native]}" ]; then
    echo "WARNING: find counted ${COUNT[W3c/zenfs]} files on zenfs but ${COUNT[W3c/native]} on native"
  fi
}

# ---------------------------------------------------------------- main

if [ -n "$TABLE_FILE" ]; then
  # shellcheck disable=SC1090
  source "$TABLE_FILE"
  print_table
  exit 0
fi

main() {
  local t_all
  t_all=$(now)
  setup_tools
  SYSTEMS=(zenfs native "${PEERS[@]}")
  print_env | tee "$WORK/results/$RUN_ID.txt"

  phase "stores"
  ensure_store "${DEEP[@]}"; DEEP_STORE=$STORE_PATH
  if wanted W5 || wanted M1 || wanted S; then ensure_store "${WIDE[@]}"; WIDE_STORE=$STORE_PATH; fi
  phase "native tree"
  ensure_native "$(basename "$DEEP_STORE")"

  if wanted W1; then phase "W1 cat artifact"; bench_w1; fi
  if wanted W2; then phase "W2 random preads"; bench_w2; fi
  if wanted W3; then phase "W3 find"; bench_w3; fi
  if wanted W4; then phase "W4 ls -lR"; bench_w4; fi
  if wanted W6; then phase "W6 cat meta.json"; bench_w6; fi
  if wanted W5 || wanted M1; then phase "M1+W5 wide store"; bench_wide "$WIDE_STORE" ""; fi
  if wanted M2; then phase "M2 RSS"; bench_rss; fi
  if [ "$SCALING" = 1 ] && wanted S; then phase "scaling"; bench_scaling; fi
  phase ""

  { print_table; print_phases; printf '  %-34s %8.1f s\n' "total" "$(elapsed "$t_all")"; } \
    | tee -a "$WORK/results/$RUN_ID.txt"
  if [ "$CORE" = 1 ]; then bench_core | tee -a "$WORK/results/$RUN_ID.txt"; fi
  echo "(saved to $WORK/results/$RUN_ID.txt)"
}

main
