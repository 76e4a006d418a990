#!/usr/bin/env bash
# zenfs's S3 benchmark (issue 15, "Performance"): zenfs reading an artifact from an S3
# server on loopback, against the FUSE mounts people use instead (s3fs-fuse, `rclone
# mount`) over the same server and the same object, and against the limit: `curl` fetching
# that object with N parallel ranged GETs. Prints the environment, then ONE table.
#
#   scripts/bench-s3.sh            full run: 1 GiB artifact, 20,000 random reads, 3 rounds
#                                  (root: mounts, drops the page cache; 31 min on a loaded
#                                  2-CPU VM, two thirds of it row R)
#   scripts/bench-s3.sh --smoke    64 MiB artifact, 2,000 random reads, 1 round (~2 min once
#                                  the tools are installed). Not in CI: it installs s3rver
#                                  from npm and the peers with apt-get.
#
# Options:
#   --rounds N     rounds per figure (default 3); each figure is the median of N runs, and
#                  the systems take turns within a round (the first one rotates)
#   --size S       the artifact's size (default 1G; smoke 64M), as `zenfs demo --artifact-bytes`
#   --reads N      random 4 KiB reads of row R (default 20000; smoke 2000)
#   --parallel N   parallel ranged GETs of the curl limit (default 8)
#   --peers LIST   comma list of s3fs,rclone (default both; "none" for none)
#   --timeout S    kill a single command after S seconds (default 300); its figure is then
#                  shown as ">S" and later rounds skip that row for that system
#   --only LIST    comma list of the rows to run: F, R, S (with M), W (with Wp); default all
#   --work DIR     work dir (default $ZENFS_BENCH_DIR/s3 or /var/tmp/zenfs-bench/s3): keeps
#                  the npm install of s3rver (npm/), the compiled helper (bin/) and the
#                  results (results/); everything else of a run (the server's data, the
#                  stores, caches, mount points) is in a run folder removed on exit
#   --zenfs PATH   the zenfs binary (default $ZENFS_BIN, else build/zenfs, built if missing)
#   --keep         keep the run folder (for a look at the server's data or caches)
#
# The server: npm's @20minutes/s3rver 4 (it checks SigV4 signatures; its package has no
# command, so a small node script, WORK/s3rver.js, starts it on 127.0.0.1 and a free port
# with the run's own data folder), installed into WORK/npm with `npm install --prefix`.
# Its CPU time (utime + stime from /proc/PID/stat, before and after) is taken for every
# command: it shares the machine's cores with the systems measured, and JavaScript serves
# a request on one thread, so a row whose server time nears its wall time is bounded by
# the server, not by the client (the table's "srv" column, marked "bound" from 80%).
#
# The objects: `zenfs demo --artifact-store s3://zenfs-bench/zenml --s3-endpoint URL
# --artifact-bytes SIZE` (3 runs) writes a store and uploads its artifacts, among them
# model.bin of SIZE; a second demo with the same knobs and a local artifact store is the
# "local" system. zenfs reads model.bin through its tree
# (training_pipeline/runs/<latest>/steps/train_model/outputs/model/model.bin); the peers
# read the same object by its key, s3fs and rclone mounting zenfs-bench/zenml.
#
# Systems (each a fresh mount per command; "cold" also drops the kernel's page, dentry and
# inode caches with `echo 3 > /proc/sys/vm/drop_caches`):
#   zenfs     `zenfs mount -f STORE MNT --cache-dir D`; cold = D emptied before the mount
#   zenfs-nc  the same with --no-cache
#   s3fs      Debian's s3fs-fuse: `s3fs zenfs-bench:/zenml MNT -f -o ro,url=..,
#             use_path_request_style,sigv4,passwd_file=..`: no use_cache (no disk cache:
#             cold at every mount), otherwise its defaults
#   rclone    `rclone mount s3b:zenfs-bench/zenml MNT --read-only --vfs-cache-mode off`
#             (its S3 backend from RCLONE_CONFIG_S3B_* variables: provider Other, the
#             endpoint, path style); no disk cache, its default in-memory read buffers
#   curl      curl 7.75+ `--parallel`, --aws-sigv4, N ranged GETs of size/N bytes each
#   local     zenfs over the local twin store (row W only)
#
# Rows and targets (the issue's):
#   S   `cat` of the artifact, cold         >= 1.5x rclone, >= 1.2x s3fs, >= 0.7x curl
#   M   the daemon's peak RSS (VmHWM) during S; for zenfs, its growth over the mounted
#       daemon's before the read: <= the read-ahead budget (64 MiB) + 32 MiB
#   F   first byte of the cold artifact (`head -c 1`, the path's lookups included)
#                                           <= s3fs
#   W   `cat`, zenfs's block cache warm (filled by S), page cache dropped, against the same
#       file from the local twin through zenfs   >= 0.9x local
#   Wp  the same with the block files (local: the artifact) in the page cache
#                                           >= 0.9x local
#   R   N random 4 KiB pread(2)s (tests/bench/preadbench.c, fixed seed), cold
#                                           >= 2x s3fs
#
# Exit status: 0 when every command of zenfs ran (whatever the figures; a peer's failure
# only blanks its figure), 1 otherwise or on a usage error.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=scripts/bench-common.sh disable=SC1091
. "$REPO/scripts/bench-common.sh"

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }

ROUNDS=3 SIZE=1G READS=20000 PARALLEL=8 PEERS_OPT="s3fs,rclone" TIMEOUT=300 SMOKE=0 KEEP=0 ONLY=F,R,S,W
SIZE_SET=0 READS_SET=0 ROUNDS_SET=0
WORK=${ZENFS_BENCH_DIR:-/var/tmp/zenfs-bench}/s3
ZENFS=${ZENFS_BIN:-}
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) SMOKE=1 ;;
    --rounds) ROUNDS=${2:?--rounds N}; ROUNDS_SET=1; shift ;;
    --size) SIZE=${2:?--size SIZE}; SIZE_SET=1; shift ;;
    --reads) READS=${2:?--reads N}; READS_SET=1; shift ;;
    --parallel) PARALLEL=${2:?--parallel N}; shift ;;
    --peers) PEERS_OPT=${2:?--peers LIST}; shift ;;
    --timeout) TIMEOUT=${2:?--timeout SECONDS}; shift ;;
    --work) WORK=${2:?--work DIR}; shift ;;
    --zenfs) ZENFS=${2:?--zenfs PATH}; shift ;;
    --keep) KEEP=1 ;;
    --only) ONLY=${2:?--only LIST}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench-s3.sh: unknown option: $1 (see --help)" >&2; exit 1 ;;
  esac
  shift
done
if [ "$SMOKE" = 1 ]; then
  [ "$SIZE_SET" = 1 ] || SIZE=64M
  [ "$READS_SET" = 1 ] || READS=2000
  [ "$ROUNDS_SET" = 1 ] || ROUNDS=1
fi
for v in ROUNDS READS PARALLEL TIMEOUT; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "bench-s3.sh: --${v,,} wants a positive integer" >&2; exit 1; }
done
[[ $SIZE =~ ^[1-9][0-9]*[KMG]?$ ]] || { echo "bench-s3.sh: --size wants a size like 64M or 1G" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "bench-s3.sh: run it as root (FUSE mounts of three systems, drop_caches)" >&2; exit 1; }

BUCKET=zenfs-bench PREFIX=zenml
# Dummy credentials of this private server only (s3rver's built-in account).
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
# The read-ahead budget of S3SourceOptions::max_readahead_bytes: row M's bound.
READAHEAD_MIB=64

# ---------------------------------------------------------------- bookkeeping

declare -A SAMPLES=()  # "ROW/SYS" -> " s1 s2 ..." (seconds; kB for row M)
declare -A SRV=()      # "ROW/SYS" -> " c1 c2 ..." s3rver CPU seconds per command
declare -A FAILED=()   # "ROW/SYS" -> why a peer's command failed
declare -A TIMEDOUT=() # "ROW/SYS" -> 1
declare -A PID_OF=() DIR_OF=()
MOUNTS=() PEERS=() SRV_PID="" CHILD="" RUNDIR=""

wanted() { [[ ",$ONLY," == *",$1,"* ]]; }
log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }
now() { printf '%s' "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.6f", b - a }'; }

cleanup() {
  bench_release
  # The server runs in its own process group (setsid): that group and nothing else.
  if [ -n "$SRV_PID" ]; then kill -- "-$SRV_PID" 2>/dev/null || true; wait "$SRV_PID" 2>/dev/null || true; fi
  if [ -n "$RUNDIR" ] && [ -d "$RUNDIR" ]; then
    if [ "$KEEP" = 1 ]; then log "kept $RUNDIR"; else rm -rf "$RUNDIR"; fi
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

drop_caches() { sync; echo 3 > /proc/sys/vm/drop_caches; }

# The server's CPU time so far, in seconds (utime + stime of /proc/PID/stat).
srv_cpu() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.2f", ($12 + $13) / hz }' "/proc/$SRV_PID/stat"
}

# ---------------------------------------------------------------- setup

setup_tools() {
  local peers
  if [ -z "$ZENFS" ]; then
    ZENFS=$REPO/build/zenfs
    if [ ! -x "$ZENFS" ]; then
      log "building zenfs (scripts/build.sh, target zenfs)"
      (cd "$REPO" && BUILD_DIR=build BUILD_TARGET=zenfs scripts/build.sh >&2)
    fi
  fi
  ZENFS=$(realpath -m "$ZENFS")
  [ -x "$ZENFS" ] || die "no zenfs binary at $ZENFS"
  command -v node >/dev/null && command -v npm >/dev/null || "$REPO/scripts/deps.sh" nodejs npm >&2 \
    || die "needs node and npm"
  command -v curl >/dev/null || "$REPO/scripts/deps.sh" curl >&2 || die "needs curl"
  curl --help all 2>/dev/null | grep -q -- --aws-sigv4 || die "curl has no --aws-sigv4 (7.75 or later)"
  # Debian's s3fs (s3fs-fuse) and rclone.
  peers=$(bench_peers "s3fs rclone" "$PEERS_OPT") || die "bad --peers $PEERS_OPT"
  [ -z "$peers" ] || mapfile -t PEERS <<< "$peers"
  mkdir -p "$WORK"/{npm,bin,results}
  S3RVER=$WORK/npm/node_modules/@20minutes/s3rver
  if [ ! -e "$S3RVER/package.json" ]; then
    log "installing @20minutes/s3rver into $WORK/npm"
    npm install --prefix "$WORK/npm" --no-audit --no-fund --loglevel=error '@20minutes/s3rver@^4' >&2 \
      || die "npm install @20minutes/s3rver failed"
  fi
  PREADBENCH=$(scripts_build_preadbench "$WORK/bin") || die "cannot compile tests/bench/preadbench.c"
  RUN_ID=$(date +%Y%m%d-%H%M%S)-$$
  RUNDIR=$(mktemp -d "$WORK/run-$RUN_ID.XXXXXX")
  mkdir -p "$RUNDIR/mnt"
  ERRLOG=$WORK/results/$RUN_ID.stderr
  : > "$ERRLOG"
}

# Starts s3rver on 127.0.0.1 and a free port (the OS's pick): sets ENDPOINT and SRV_PID.
start_server() {
  cat > "$WORK/s3rver.js" <<'EOF'
// bench-s3.sh's S3 server: node s3rver.js PACKAGE_DIR DATA_DIR; prints "PID PORT" once it
// listens on 127.0.0.1 (a free port). SigV4 signatures are checked (s3rver's defaults).
//
// Two fixes, made to its code as it is loaded (the installed package stays as it is):
//  - it checks a signature over the request's path without its trailing '/' ("/bucket/"
//    as "/bucket"), where clients (s3fs, curl) sign the path as sent: every s3fs listing
//    was refused with SignatureDoesNotMatch;
//  - a listing with a delimiter skips the folders that hold deeper keys, so their common
//    prefixes are missing ("zenml/" listed empty): the whole subtree is walked instead.
const Module = require('module');
const path = require('path');
const fixes = [
  [path.join('middleware', 'authentication.js'), '    canonicalizedResource = canonicalizedResource\n',
   "    if (ctx.path.endsWith('/') && !canonicalizedResource.endsWith('/')) canonicalizedResource += '/';\n" +
   '    canonicalizedResource = canonicalizedResource\n'],
  [path.join('stores', 'filesystem.js'), '          delimiterEnc &&\n', '          false &&\n'],
];
const compile = Module.prototype._compile;
Module.prototype._compile = function (content, filename) {
  for (const [file, from, to] of fixes) {
    if (!filename.endsWith(file)) continue;
    if (!content.includes(from)) throw new Error(`s3rver.js: ${filename} has changed; no ${JSON.stringify(from)}`);
    content = content.replace(from, to);
  }
  return compile.call(this, content, filename);
};
const S3rver = require(process.argv[2]);
new S3rver({ address: '127.0.0.1', port: 0, directory: process.argv[3], silent: true })
  .run()
  .then((address) => console.log(`${process.pid} ${address.port}`))
  .catch((error) => { console.error(error); process.exit(1); });
EOF
  mkdir -p "$RUNDIR/s3data"
  setsid node "$WORK/s3rver.js" "$S3RVER" "$RUNDIR/s3data" > "$RUNDIR/s3rver.out" 2>>"$ERRLOG" &
  SRV_PID=$!
  local i
  for ((i = 0; i < 300; i++)); do
    [ -s "$RUNDIR/s3rver.out" ] && break
    kill -0 "$SRV_PID" 2>/dev/null || die "s3rver did not start (see $ERRLOG)"
    sleep 0.1
  done
  local pid port
  read -r pid port < "$RUNDIR/s3rver.out" || die "s3rver said nothing in 30 s"
  [ "$pid" = "$SRV_PID" ] || die "s3rver runs as pid $pid, not $SRV_PID (setsid forked?)"
  ENDPOINT=http://127.0.0.1:$port
  log "s3rver (pid $SRV_PID) at $ENDPOINT"
}

# The two demo stores; MODEL (the artifact's path in the tree), KEY (its object key), BYTES.
make_objects() {
  local t0
  t0=$(now)
  "$ZENFS" demo "$RUNDIR/store-s3" --runs 3 --artifact-bytes "$SIZE" \
    --artifact-store "s3://$BUCKET/$PREFIX" --s3-endpoint "$ENDPOINT" >/dev/null 2>>"$ERRLOG" \
    || die "zenfs demo --artifact-store failed (see $ERRLOG)"
  log "demo store with S3 artifacts written and uploaded in $(elapsed "$t0") s"
  "$ZENFS" demo "$RUNDIR/store-local" --runs 3 --artifact-bytes "$SIZE" >/dev/null 2>>"$ERRLOG" \
    || die "zenfs demo failed (see $ERRLOG)"
  sys_up zenfs-nc
  local mnt=${DIR_OF[zenfs-nc]} latest uri
  latest=$(readlink "$mnt/training_pipeline/runs/latest") || die "no training_pipeline/runs/latest"
  MODEL=training_pipeline/runs/$latest/steps/train_model/outputs/model/model.bin
  uri=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["uri"])' \
    "$mnt/${MODEL%/model.bin}/meta.json") || die "no uri in the model's meta.json"
  [[ $uri == "s3://$BUCKET/$PREFIX/"* ]] || die "the model's URI $uri is not under s3://$BUCKET/$PREFIX"
  KEY=${uri#"s3://$BUCKET/"}/model.bin
  BYTES=$(stat -c %s "$mnt/$MODEL") || die "cannot stat $MODEL on zenfs"
  sys_down zenfs-nc
  printf '%s:%s\n' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" > "$RUNDIR/passwd-s3fs"
  chmod 600 "$RUNDIR/passwd-s3fs"
  : > "$RUNDIR/rclone.conf"
}

print_env() {
  bench_env_head "zenfs S3 benchmark" "$([ "$SMOKE" = 1 ] && echo smoke || echo full)" "$ZENFS" "$REPO"
  echo "server:   @20minutes/s3rver $(sed -n 's/^ *"version": "\(.*\)",$/\1/p' "$S3RVER/package.json" | head -1)" \
       "on node $(node --version), $ENDPOINT"
  echo "peers:    $(for p in "${PEERS[@]}"; do case $p in
                      s3fs) printf '%s; ' "$(s3fs --version 2>&1 | head -1)" ;;
                      rclone) printf '%s; ' "$(rclone version 2>/dev/null | head -1)" ;; esac; done)$(curl --version | head -1 | cut -d' ' -f1-2)"
  echo "settings: rounds $ROUNDS, artifact $SIZE ($BYTES bytes, s3://$BUCKET/$KEY), $READS random reads," \
       "curl x$PARALLEL, timeout ${TIMEOUT}s"
}

# ---------------------------------------------------------------- mounts

# sys_up SYS: a fresh mount of SYS in the foreground of a background job (PID_OF is the
# daemon's pid). zenfs's cold cache: emptied by the row before it calls this.
sys_up() {
  local sys=$1 mnt pid
  sys_down "$sys"
  mnt=$(mktemp -d "$RUNDIR/mnt/$sys.XXXX")
  MOUNTS+=("$mnt")
  case "$sys" in
    zenfs) "$ZENFS" mount -f "$RUNDIR/store-s3" "$mnt" --cache-dir "$RUNDIR/cache" 2>>"$ERRLOG" & pid=$! ;;
    zenfs-nc) "$ZENFS" mount -f "$RUNDIR/store-s3" "$mnt" --no-cache 2>>"$ERRLOG" & pid=$! ;;
    local) "$ZENFS" mount -f "$RUNDIR/store-local" "$mnt" 2>>"$ERRLOG" & pid=$! ;;
    s3fs)
      s3fs "$BUCKET:/$PREFIX" "$mnt" -f -o "ro,url=$ENDPOINT,use_path_request_style,sigv4,endpoint=$AWS_REGION" \
        -o "passwd_file=$RUNDIR/passwd-s3fs" 2>>"$ERRLOG" & pid=$! ;;
    rclone)
      # Without AWS_CA_BUNDLE (an environment may name a proxy's CA there): rclone's AWS SDK
      # then refuses its own HTTP transport, and plain http on loopback needs no CA.
      RCLONE_CONFIG_S3B_TYPE=s3 RCLONE_CONFIG_S3B_PROVIDER=Other RCLONE_CONFIG_S3B_ENDPOINT=$ENDPOINT \
      RCLONE_CONFIG_S3B_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID RCLONE_CONFIG_S3B_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY \
      RCLONE_CONFIG_S3B_REGION=$AWS_REGION RCLONE_CONFIG_S3B_FORCE_PATH_STYLE=true \
        env -u AWS_CA_BUNDLE rclone mount "s3b:$BUCKET/$PREFIX" "$mnt" --config "$RUNDIR/rclone.conf" --read-only \
          --vfs-cache-mode off --log-level ERROR 2>>"$ERRLOG" & pid=$! ;;
    *) die "sys_up: unknown system $sys" ;;
  esac
  PID_OF[$sys]=$pid DIR_OF[$sys]=$mnt
  if ! wait_mounted "$mnt" "$pid"; then
    case "$sys" in zenfs*|local) die "$sys did not mount on $mnt (see $ERRLOG)" ;; esac
    log "$sys did not mount; its figures stay empty"
    sys_down "$sys"
    return 1
  fi
}

sys_down() {
  local sys=$1 mnt=${DIR_OF[$1]:-} pid=${PID_OF[$1]:-} i
  [ -n "$mnt" ] || return 0
  if is_mounted "$mnt"; then fusermount3 -u "$mnt" 2>>"$ERRLOG" || fusermount3 -uz "$mnt" 2>>"$ERRLOG" || true; fi
  if [ -n "$pid" ]; then
    for ((i = 0; i < 200; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then log "$sys (pid $pid) still alive 10 s after unmount; killing it"; kill "$pid" || true; fi
    wait "$pid" 2>/dev/null || true
  fi
  rmdir "$mnt" 2>/dev/null || true
  unset "DIR_OF[$sys]" "PID_OF[$sys]"
}

# The artifact's path on SYS's mount.
file_of() { case "$1" in zenfs*|local) echo "${DIR_OF[$1]}/$MODEL" ;; *) echo "${DIR_OF[$1]}/${KEY#"$PREFIX/"}" ;; esac; }

# ---------------------------------------------------------------- running commands

# timed ROW SYS CMD...: runs CMD once under the timeout; appends its wall time to
# SAMPLES[ROW/SYS] and the server's CPU time over it to SRV[ROW/SYS]. A failure is fatal
# for zenfs; a peer's blanks its figure (and later rounds of the row skip it).
timed() {
  local key=$1/$2 sys=$2 t0 c0 rc=0 t
  shift 2
  [ -z "${FAILED[$key]:-}${TIMEDOUT[$key]:-}" ] || return 0
  c0=$(srv_cpu)
  t0=$(now)
  timeout -k 10 "$TIMEOUT" "$@" > /dev/null 2>>"$ERRLOG" < /dev/null &
  CHILD=$!
  wait "$CHILD" || rc=$?
  CHILD=""
  t=$(elapsed "$t0")
  SRV[$key]+=" $(awk -v a="$c0" -v b="$(srv_cpu)" 'BEGIN { printf "%.2f", b - a }')"
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    TIMEDOUT[$key]=1 SAMPLES[$key]+=" $TIMEOUT"
    log "  $key: timed out after ${TIMEOUT}s"
  elif [ "$rc" != 0 ]; then
    case "$sys" in zenfs*|local) die "$key: exit $rc from: $* (stderr in $ERRLOG)" ;; esac
    FAILED[$key]="exit $rc"
    log "  $key: $sys failed (exit $rc); see $ERRLOG"
  else
    SAMPLES[$key]+=" $t"
    log "  $key: $t s (server CPU $(echo "${SRV[$key]}" | awk '{ print $NF }') s)"
  fi
}

# cold SYS: a fresh mount of SYS with nothing cached (zenfs: an empty cache folder), then
# the kernel's caches dropped. Non-zero when SYS did not mount.
cold() {
  [ "$1" != zenfs ] || rm -rf "$RUNDIR/cache"
  sys_up "$1" || return 1
  drop_caches
}

vmhwm() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }

curl_limit() {  # curl_limit: the artifact by PARALLEL ranged GETs at once
  local i part=$(( (BYTES + PARALLEL - 1) / PARALLEL )) args=()
  for ((i = 0; i < PARALLEL; i++)); do
    [ "$i" = 0 ] || args+=(--next)
    args+=(-sSf -o /dev/null --aws-sigv4 "aws:amz:$AWS_REGION:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"
           -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" -r "$((i * part))-$(( (i + 1) * part - 1 ))"
           "$ENDPOINT/$BUCKET/$KEY")
  done
  timed S curl curl --parallel --parallel-max "$PARALLEL" "${args[@]}"
}

# rotated R LIST...: LIST turned left by R (the systems take turns going first).
rotated() {
  local r=$1
  shift
  local n=$# i out=()
  local a=("$@")
  for ((i = 0; i < n; i++)); do out+=("${a[(i + r) % n]}"); done
  echo "${out[@]}"
}

bench_rows() {
  local r sys before f
  for ((r = 1; r <= ROUNDS; r++)); do
    log "== round $r/$ROUNDS: F (first byte), R (random reads), S (cold cat), M (peak RSS)"
    for sys in $(rotated "$r" zenfs zenfs-nc "${PEERS[@]}" curl); do
      if [ "$sys" = curl ]; then
        if wanted S; then drop_caches; curl_limit; fi
        continue
      fi
      if wanted F && cold "$sys"; then
        f=$(file_of "$sys")
        timed F "$sys" head -c 1 "$f"
        sys_down "$sys"
      fi
      if wanted R && cold "$sys"; then
        f=$(file_of "$sys")
        timed R "$sys" "$PREADBENCH" "$f" "$READS" 4096 42
        sys_down "$sys"
      fi
      if { wanted S || wanted W; } && cold "$sys"; then
        f=$(file_of "$sys")
        stat "$f" > /dev/null 2>&1 || true  # the path's lookups are F's, not S's
        before=$(vmhwm "${PID_OF[$sys]}")
        timed S "$sys" cat "$f"
        SAMPLES[M/$sys]+=" $(vmhwm "${PID_OF[$sys]}")"
        [[ $sys != zenfs* ]] || SAMPLES[Mg/$sys]+=" $(( $(vmhwm "${PID_OF[$sys]}") - before ))"
        sys_down "$sys"
      fi
    done
    wanted W || continue
    log "== round $r/$ROUNDS: W, Wp (warm block cache against local)"
    # zenfs's S (after its R) left the whole artifact in the block cache (W runs S too).
    log "  block cache: $(du -sh "$RUNDIR/cache" | cut -f1)"
    for sys in $(rotated "$r" zenfs local); do
      sys_up "$sys"; drop_caches
      timed W "$sys" cat "$(file_of "$sys")"
      sys_down "$sys"
      sys_up "$sys"
      timed Wp "$sys" cat "$(file_of "$sys")"
      sys_down "$sys"
    done
  done
}

# ---------------------------------------------------------------- the table

# figure ROW SYS KIND -> FIG (display), VAL (median), SRVF (server CPU share of wall, %)
figure() {
  local key=$1/$2 kind=$3
  FIG="" VAL="" SRVF=""
  if [ -n "${FAILED[$key]:-}" ]; then FIG="error"; return 0; fi
  [ -n "${SAMPLES[$key]:-}" ] || return 0
  # shellcheck disable=SC2086
  VAL=$(median ${SAMPLES[$key]})
  case "$kind" in
    thr) FIG=$(awk -v b="$BYTES" -v t="$VAL" 'BEGIN { printf "%.0f MiB/s", b / 1048576 / t }') ;;
    rss) FIG=$(awk -v k="$VAL" 'BEGIN { printf "%.0f MiB", k / 1024 }') ;;
    *) FIG=$(fmt_time "$VAL") ;;
  esac
  [ -z "${TIMEDOUT[$key]:-}" ] || FIG=">$FIG"
  if [ -n "${SRV[$key]:-}" ]; then
    # shellcheck disable=SC2086
    SRVF=$(awk -v c="$(median ${SRV[$key]})" -v t="$VAL" 'BEGIN { if (t > 0) printf "%.0f", 100 * c / t }')
  fi
}

# ratio KIND Z P: zenfs relative to a peer, "2.10" (thr/speed: P/Z times, so >1 = zenfs faster)
ratio() {
  awk -v k="$1" -v z="$2" -v p="$3" 'BEGIN { if (z <= 0 || p <= 0) exit;
    printf "%.2f", (k == "time") ? z / p : p / z }'
}

# print_row "ID;workload;kind;targets": targets are SYS>=X / SYS<=X (ratios against zenfs)
# or grow<=MIB (row M).
print_row() {
  local id what kind targets sys t op val r verdict="" text="" zval zsrv
  IFS=';' read -r id what kind targets <<< "$1"
  figure "$id" zenfs "$kind"; zval=$VAL zsrv=$SRVF
  printf '%-3s %-36s' "$id" "$what"
  local cols=(zenfs zenfs-nc "${PEERS[@]}" curl local)
  for sys in "${cols[@]}"; do figure "$id" "$sys" "$kind"; printf ' %11s' "${FIG:-—}"; done
  for t in $targets; do
    case "$t" in
      grow*) op="<=" val=${t#grow<=}
        figure Mg zenfs rss
        text+="+${FIG:-?} <= ${val} MiB, "
        if [ -z "$VAL" ]; then verdict+=" n/a"; else verdict+=" $(awk -v v="$VAL" -v t="$val" 'BEGIN { print v <= t * 1024 ? "PASS" : "MISS" }')"; fi ;;
      *) sys=${t%%[<>]*}; op=${t:${#sys}:2}; val=${t:${#sys}+2}
        figure "$id" "$sys" "$kind"
        r=""
        [ -z "$zval" ] || [ -z "$VAL" ] || [ "$FIG" = error ] || r=$(ratio "$kind" "$zval" "$VAL")
        text+="${r:-?}x $sys (${op}$val), "
        if [ -z "$r" ] || [ -n "${TIMEDOUT[$id/$sys]:-}${TIMEDOUT[$id/zenfs]:-}" ]; then verdict+=" n/a"
        else verdict+=" $(awk -v v="$r" -v op="$op" -v t="$val" 'BEGIN { print ((op == ">=") ? v >= t : v <= t) ? "PASS" : "MISS" }')"; fi ;;
    esac
  done
  case "$verdict" in "") verdict="—" ;; *MISS*) verdict=MISS ;; *n/a*) verdict=n/a ;; *) verdict=PASS ;; esac
  if [ -n "$zsrv" ]; then zsrv="$zsrv%"; [ "${zsrv%\%}" -lt 80 ] || zsrv+=" bound"; fi
  printf ' %10s  %s %s\n' "${zsrv:-—}" "${text%, }" "$verdict"
}

print_table() {
  local sys
  echo
  printf '%-3s %-36s' row workload
  for sys in zenfs zenfs-nc "${PEERS[@]}" "curl x$PARALLEL" local; do printf ' %11s' "$sys"; done
  printf ' %10s  %s\n' "srv(zenfs)" "zenfs against the targets"
  local rows=(
    "S;cat $SIZE artifact, cold;thr;rclone>=1.5 s3fs>=1.2 curl>=0.7"
    "M;peak RSS (VmHWM) of the daemon in S;rss;grow<=$((READAHEAD_MIB + 32))"
    "F;first byte of the cold artifact;time;s3fs<=1"
    "W;cat, block cache warm, page cache cold;thr;local>=0.9"
    "Wp;cat, block cache in the page cache;thr;local>=0.9"
    "R;$READS random 4 KiB preads, cold;speed;s3fs>=2"
  )
  local row
  for row in "${rows[@]}"; do print_row "$row"; done
  echo "srv: s3rver's CPU time over zenfs's command as a share of its wall time (median); 'bound' from 80%:"
  echo "     the server's one JavaScript thread is the limit there. Per system (median %):"
  local id
  for id in S F W Wp R; do
    printf '     %-3s' "$id"
    for sys in zenfs zenfs-nc "${PEERS[@]}" curl local; do
      figure "$id" "$sys" time
      [ -z "$SRVF" ] || printf ' %s %s%%' "$sys" "$SRVF"
    done
    echo
  done
  echo "ratios: zenfs's speed over the peer's (times for F: zenfs's over the peer's). M's target is on the"
  echo "growth of zenfs's VmHWM during the read, against the read-ahead budget of $READAHEAD_MIB MiB."
  for id in S M F W Wp R; do
    for sys in zenfs zenfs-nc "${PEERS[@]}" curl local; do
      [ -z "${FAILED[$id/$sys]:-}" ] || echo "$id/$sys failed: ${FAILED[$id/$sys]} (see $ERRLOG)"
    done
  done
}

# ---------------------------------------------------------------- main

main() {
  local t_all out
  t_all=$(now)
  setup_tools
  start_server
  make_objects
  out=$WORK/results/$RUN_ID.txt
  print_env | tee "$out"
  bench_rows
  { print_table; printf 'total %.0f s; load at end %s\n' "$(elapsed "$t_all")" "$(cut -d' ' -f1-3 /proc/loadavg)"; } | tee -a "$out"
  echo "(saved to $out)"
}

main
