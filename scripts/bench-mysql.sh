#!/usr/bin/env bash
# zenfs on a MySQL/MariaDB store next to its SQLite twin (issue 13, point 6): the same demo
# store written once by `zenfs demo DIR --mysql URL` (DIR keeps the SQLite database, the
# private server gets the copy), then scripts/bench.sh's rows on both, with ratios:
#
#   M1   mount to the first `ls` of the root (fresh mount; zenfs mount returns when ready)
#   W5f  `ls example_pipeline/runs` on a fresh mount once it has settled (a run's steps/
#        listed), as bench.sh's W5f
#   W6f  cat every meta.json under the first 1,000 runs (ls order) on a fresh, settled mount
#   W3a  `find -type f | wc -l` over the whole tree, the second time on one mount (again)
#
# plus the refresh cost of a mounted MySQL store: the daemon's CPU seconds per minute (utime
# + stime from /proc/PID/stat) over --cpu-seconds with no writer, then with a writer that
# inserts one run (a copy of a run and its steps, new ids, times now) per second.
#
# bench.sh measures W3/W6 on its deep store (10,000 runs x 5 steps x 2 outputs) and M1/W5 on
# its wide one (100,000 x 1 x 1): here ONE store of --runs/--steps/--outputs carries every
# row, so compare ratios, not figures, with bench.sh's table.
#
#   scripts/bench-mysql.sh [--runs N] [--steps N] [--outputs N] [--rounds N]
#                          [--cpu-seconds S] [--work DIR] [--zenfs PATH] [--fresh]
#
# Defaults: 100,000 runs x 1 step x 1 output (no large artifact), 3 rounds (each figure the
# median), 60 s per CPU phase, WORK /var/tmp/zenfs-bench-mysql. The server runs with a 1 GiB
# buffer pool on 127.0.0.1 and a free port, --no-defaults (scripts/mariadb-private.sh), and
# is stopped at exit. The store and the server's data directory are kept for the next run
# of the same shape in WORK/runsR-stepsS-outputsO (a 100,000-run store is ~5 GB and 400,000
# files, which take minutes to write and minutes to delete); --fresh writes them again.
# The writer's runs are deleted again at the end (and at the start, after a crash). Root
# for FUSE. Caches are not dropped: the rows are first/again figures, with the database
# (SQLite's page cache, MariaDB's buffer pool) warm for both.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)

RUNS=100000 STEPS=1 OUTPUTS=1 ROUNDS=3 CPU_SECONDS=60 FRESH=0
WORK=${ZENFS_BENCH_MYSQL_DIR:-/var/tmp/zenfs-bench-mysql}
ZENFS=${ZENFS_BIN:-}
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=${2:?}; shift ;;
    --steps) STEPS=${2:?}; shift ;;
    --outputs) OUTPUTS=${2:?}; shift ;;
    --rounds) ROUNDS=${2:?}; shift ;;
    --cpu-seconds) CPU_SECONDS=${2:?}; shift ;;
    --work) WORK=${2:?}; shift ;;
    --zenfs) ZENFS=${2:?}; shift ;;
    --fresh) FRESH=1 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench-mysql.sh: unknown option: $1 (see --help)" >&2; exit 1 ;;
  esac
  shift
done
for v in "$RUNS" "$STEPS" "$OUTPUTS" "$ROUNDS" "$CPU_SECONDS"; do
  [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "bench-mysql.sh: counts are positive integers" >&2; exit 1; }
done

log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }
now() { printf '%s' "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.6f", b - a }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

if [ -z "$ZENFS" ]; then
  "$REPO/scripts/deps.sh"
  (cd "$REPO" && BUILD_DIR=${BUILD_DIR:-build} BUILD_TARGET=zenfs scripts/build.sh >&2)
  ZENFS=$REPO/${BUILD_DIR:-build}/zenfs
fi
ZENFS=$(realpath "$ZENFS")
[ -e /dev/fuse ] || die "no /dev/fuse"
# shellcheck source=scripts/mariadb-private.sh
source "$REPO/scripts/mariadb-private.sh"

KEY=runs$RUNS-steps$STEPS-outputs$OUTPUTS
DATA=$WORK/$KEY
STORE=$DATA/store MNT=$WORK/mnt/m ERRLOG=$WORK/results/stderr-$$.log
if [ "$FRESH" = 1 ] || [ ! -e "$DATA/.complete" ]; then rm -rf "$DATA"; fi
mkdir -p "$MNT" "$WORK/results" "$DATA"
: > "$ERRLOG"
DAEMON="" WRITER=""
forget_writer_runs() {
  mariadb_sql "USE zenml; SET foreign_key_checks = 0;
    DELETE FROM step_run WHERE pipeline_run_id IN (SELECT id FROM pipeline_run WHERE name LIKE 'bench-writer-%');
    DELETE FROM pipeline_run WHERE name LIKE 'bench-writer-%';"
}
cleanup() {
  [ -z "$WRITER" ] || { kill "$WRITER" 2>/dev/null || true; wait "$WRITER" 2>/dev/null || true; }
  if grep -qs " $MNT " /proc/self/mounts; then "$ZENFS" umount "$MNT" 2>/dev/null || fusermount3 -uz "$MNT" || true; fi
  [ -z "$MARIADB_PORT" ] || forget_writer_runs 2>>"$ERRLOG" || true
  mariadb_stop
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

log "starting a private MariaDB in $DATA/server"
mariadb_start "$DATA/server" 1G || die "mariadbd did not start"
PW=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
mariadb_sql "CREATE DATABASE IF NOT EXISTS zenml CHARACTER SET utf8mb4;
  CREATE USER IF NOT EXISTS 'zenfs_reader'@'127.0.0.1';
  ALTER USER 'zenfs_reader'@'127.0.0.1' IDENTIFIED BY '$PW';
  GRANT SELECT ON zenml.* TO 'zenfs_reader'@'127.0.0.1';"
printf '%s\n' "$PW" > "$WORK/reader.pw"
chmod 600 "$WORK/reader.pw"
URL=mysql://zenfs_reader@127.0.0.1:$MARIADB_PORT/zenml

if [ ! -e "$DATA/.complete" ]; then
  log "zenfs demo --runs $RUNS --steps $STEPS --outputs $OUTPUTS --artifact-bytes 0 --mysql"
  t0=$(now)
  "$ZENFS" demo "$STORE" --runs "$RUNS" --steps "$STEPS" --outputs "$OUTPUTS" --artifact-bytes 0 \
    --mysql "mysql://root@127.0.0.1:$MARIADB_PORT/zenml" >&2 || die "zenfs demo --mysql failed"
  elapsed "$t0" > "$DATA/.complete"
  log "written in $(cat "$DATA/.complete") s"
else
  forget_writer_runs || die "cannot delete an earlier writer's runs"
fi
GEN=$(cat "$DATA/.complete")

# mount SYS: a fresh mount of the SQLite twin or of the MySQL copy on $MNT; sets DAEMON.
mount_sys() {
  local f args
  if [ "$1" = sqlite ]; then
    "$ZENFS" mount "$STORE" "$MNT" 2>>"$ERRLOG" || die "zenfs mount $STORE failed (see $ERRLOG)"
  else
    "$ZENFS" mount "$URL" "$MNT" --password-file "$WORK/reader.pw" \
      --artifact-root "$STORE/local_stores=$STORE/local_stores" 2>>"$ERRLOG" || die "zenfs mount $URL failed (see $ERRLOG)"
  fi
  DAEMON=""
  for f in /proc/[0-9]*/cmdline; do  # the daemon: zenfs with mount and $MNT in its argv
    args=()
    mapfile -d '' -t args 2>/dev/null < "$f" || continue  # (a process may be gone)
    if [ "${args[0]:-}" = "$ZENFS" ] && [ "${args[1]:-}" = mount ] && [[ " ${args[*]} " == *" $MNT "* ]]; then
      DAEMON=${f#/proc/}; DAEMON=${DAEMON%/cmdline}
    fi
  done
  [ -n "$DAEMON" ] || die "cannot find the zenfs daemon of $MNT"
}
umount_sys() {
  local i
  "$ZENFS" umount "$MNT" 2>>"$ERRLOG" || fusermount3 -uz "$MNT"
  for ((i = 0; i < 200; i++)); do kill -0 "$DAEMON" 2>/dev/null || break; sleep 0.05; done
  DAEMON=""
}
settle() { ls "$MNT"/example_pipeline/runs/latest/steps > /dev/null; }

declare -A S=()
timed() {  # timed ROW SYS COMMAND...: appends the command's wall time to S[ROW/SYS]
  local key=$1/$2 t0
  shift 2
  t0=$(now)
  "$@" > /dev/null 2>>"$ERRLOG" || die "$key: $* failed"
  S[$key]+=" $(elapsed "$t0")"
}
w5() { ls "$MNT/example_pipeline/runs"; }
w6() { (cd "$MNT" && xargs -d '\n' cat < "$W6_LIST"); }
w3() { find "$MNT" -type f | wc -l; }

# W6's files: every meta.json under the first 1,000 runs (ls order), from the SQLite twin.
W6_LIST=$WORK/results/w6list-$$
mount_sys sqlite
settle
# shellcheck disable=SC2012  # run names are plain: ls order is what bench.sh's W6 takes
(cd "$MNT" && ls example_pipeline/runs | awk '$0 != "latest" && k++ < 1000' \
   | sed 's|^|example_pipeline/runs/|' | xargs -d '\n' -I{} find {} -name meta.json) > "$W6_LIST"
umount_sys
log "W6: $(wc -l < "$W6_LIST") meta.json files"

declare -A FILES=()
for ((r = 1; r <= ROUNDS; r++)); do
  for sys in sqlite mysql; do
    log "round $r/$ROUNDS: $sys"
    t0=$(now)
    mount_sys "$sys"
    ls "$MNT" > /dev/null || die "ls of a fresh $sys mount failed"
    S[M1/$sys]+=" $(elapsed "$t0")"
    umount_sys
    mount_sys "$sys"; settle
    timed W5f "$sys" w5
    umount_sys
    mount_sys "$sys"; settle
    timed W6f "$sys" w6
    FILES[$sys]=$(w3)  # the first walk (and the file count, compared below)
    timed W3a "$sys" w3
    umount_sys
  done
done
[ "${FILES[sqlite]}" = "${FILES[mysql]}" ] || log "WARNING: find counted ${FILES[sqlite]} files on SQLite, ${FILES[mysql]} on MySQL"

# Refresh CPU: the daemon's utime + stime (clock ticks) over CPU_SECONDS, writer off, then on.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
cpu_per_minute() {  # cpu_per_minute PID SECONDS -> CPU seconds per minute
  local a b hz
  hz=$(getconf CLK_TCK)
  a=$(cpu_ticks "$1")
  sleep "$2"
  b=$(cpu_ticks "$1")
  awk -v a="$a" -v b="$b" -v hz="$hz" -v s="$2" 'BEGIN { printf "%.2f", (b - a) / hz * 60 / s }'
}
# One run per second, as a busy team's server sees them: a copy of the store's first run and
# its steps with new ids, a new name and the current time, in one transaction.
writer() {
  local n=0
  while :; do
    n=$((n + 1))
    mariadb_sql "USE zenml;
      SET @src = (SELECT id FROM pipeline_run ORDER BY created, id LIMIT 1), @new = REPLACE(UUID(), '-', '');
      START TRANSACTION;
      CREATE TEMPORARY TABLE r AS SELECT * FROM pipeline_run WHERE id = @src;
      UPDATE r SET id = @new, name = CONCAT('bench-writer-$n-', @new), orchestrator_run_id = @new,
        created = UTC_TIMESTAMP(), updated = UTC_TIMESTAMP(), start_time = UTC_TIMESTAMP(), end_time = UTC_TIMESTAMP();
      INSERT INTO pipeline_run SELECT * FROM r;
      CREATE TEMPORARY TABLE s AS SELECT * FROM step_run WHERE pipeline_run_id = @src;
      UPDATE s SET id = REPLACE(UUID(), '-', ''), pipeline_run_id = @new, created = UTC_TIMESTAMP(), updated = UTC_TIMESTAMP();
      INSERT INTO step_run SELECT * FROM s;
      COMMIT;" >> "$ERRLOG" 2>&1 || { echo "writer: insert $n failed" >> "$ERRLOG"; exit 1; }
    sleep 1
  done
}
mount_sys mysql
settle
ls "$MNT/example_pipeline/runs" > /dev/null
sleep 5  # past the mount's first refresh
log "refresh CPU, writer off (${CPU_SECONDS} s)"
CPU_OFF=$(cpu_per_minute "$DAEMON" "$CPU_SECONDS")
RUNS_BEFORE=$(mariadb_sql "SELECT COUNT(*) FROM zenml.pipeline_run")
writer &
WRITER=$!
log "refresh CPU, writer on (${CPU_SECONDS} s)"
CPU_ON=$(cpu_per_minute "$DAEMON" "$CPU_SECONDS")
kill "$WRITER" 2>/dev/null || true; wait "$WRITER" 2>/dev/null || true; WRITER=""
INSERTED=$(( $(mariadb_sql "SELECT COUNT(*) FROM zenml.pipeline_run") - RUNS_BEFORE ))
sleep 5  # one refresh interval (2 s by default) and slack
SEEN=$(find "$MNT/example_pipeline/runs" -mindepth 1 -maxdepth 1 -name 'bench-writer-*' | wc -l)
umount_sys

fmt() { awk -v t="$1" 'BEGIN { if (t < 0.9995) printf "%.1f ms", t * 1000; else printf "%.2f s", t }'; }
{
  echo "zenfs on MySQL/MariaDB vs its SQLite twin  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "zenfs:  $ZENFS, commit $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "server: $(mariadb_sql 'SELECT VERSION()') on 127.0.0.1, 1 GiB buffer pool; cpus $(nproc), load at end $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "store:  $RUNS runs x $STEPS steps x $OUTPUTS outputs; $(wc -l < "$W6_LIST") meta.json for W6; find: ${FILES[sqlite]} files"
  echo "zenfs demo --mysql (SQLite store, then the copy): $(fmt "$GEN")"
  echo "rounds: $ROUNDS (median)"
  printf '%-5s %-44s %12s %12s %9s\n' row workload sqlite mysql mysql/sq
  for row in "M1;mount to first ls" "W5f;ls runs/, first" "W6f;cat meta.json of 1,000 runs, first" "W3a;find -type f | wc -l, again"; do
    id=${row%%;*} what=${row#*;}
    # shellcheck disable=SC2086  # the samples are a space-separated list
    a=$(median ${S[$id/sqlite]})
    # shellcheck disable=SC2086
    b=$(median ${S[$id/mysql]})
    printf '%-5s %-44s %12s %12s %8sx\n' "$id" "$what" "$(fmt "$a")" "$(fmt "$b")" "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b / a }')"
  done
  echo "refresh CPU of the mounted MySQL store (daemon utime+stime, CPU s per minute): writer off $CPU_OFF," \
       "writer on $CPU_ON ($INSERTED runs inserted in ${CPU_SECONDS} s; $SEEN of them listed afterwards)"
  n=$(grep -c . "$ERRLOG" || true)
  [ "$n" = 0 ] || echo "stderr: $n line(s) in $ERRLOG"
} | tee "$WORK/results/bench-mysql-$(date +%Y%m%d-%H%M%S).txt"
rm -f "$W6_LIST"
