#!/usr/bin/env bash
# zenfs over a ZenML server (issue 14): the real ZenML 0.74 server
# (../shared/zenml-server/start-zenml-server.sh) over demo stores of N runs, a service
# account's API key, and next to zenfs the peer a user would otherwise use: ZenML's own
# Python client listing the same runs through the same server. Prints the environment,
# then one table of medians. No targets (no PASS/MISS).
#
#   scripts/bench-server.sh [--runs 10000,100000] [--rounds 3] [--timeout 3600]
#                           [--work DIR] [--zenfs PATH] [--only M,W,P]
#
# Rows, per store size (each the median of --rounds):
#   M  mount to a listed runs/: `zenfs mount URL MNT` (returns once the root answers),
#      then `ls MNT/example_pipeline/runs` (waits for the runs' list): wall time of both.
#   W  a first walk: `find MNT` on that fresh mount (steps, outputs and artifact versions
#      are listed then), after M in the same round.
#   L  a lever for zenfs (--only L, not in the default set): the hydrated run list zenfs
#      reads, with curl and the same key's token, as pages of 10,000 one at a time (what
#      zenfs does) and as 4 pages of a quarter each fetched at once: whether parallel
#      pages would help once the total is known.
#   P  ZenML's client: `Client().list_pipeline_runs(size=10000, page=..., hydrate=False)`
#      until the last page, in the server's own Python environment (ZenML 0.74 with the
#      machine's python3), the same API key: the time of the listing in the process
#      (login included), and beside it the process's wall time (interpreter, `import
#      zenml`, listing).
# Stores: `zenfs demo --schema 0.74 --runs N --steps 1 --outputs 1 --artifact-bytes 0`
# (the layout the 0.74 server serves; one step per run, as scripts/bench.sh's wide
# store), cached under WORK/stores/runsN and reused. The server gets a fresh copy of the
# store's database per size (it writes logins and accounts into it) and is stopped after
# that size's rounds, also on failure or Ctrl-C.
# Timeouts: zenfs runs with its defaults (a list page may take 30 minutes, details 10 s);
# the client gets ZENML_STORE_HTTP_TIMEOUT=--timeout (its default, 30 s, fails a page the
# server takes longer to compute). A command over --timeout is shown as ">T".
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
RUNS_LIST=10000,100000 ROUNDS=3 TIMEOUT=3600 WORK=${ZENFS_BENCH_DIR:-/var/tmp/zenfs-bench-server}
ZENFS=${ZENFS_BIN:-} ONLY=M,W,P
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS_LIST=${2:?--runs LIST}; shift ;;
    --rounds) ROUNDS=${2:?--rounds N}; shift ;;
    --timeout) TIMEOUT=${2:?--timeout SECONDS}; shift ;;
    --work) WORK=${2:?--work DIR}; shift ;;
    --zenfs) ZENFS=${2:?--zenfs PATH}; shift ;;
    --only) ONLY=${2:?--only LIST}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench-server.sh: unknown option: $1 (see --help)" >&2; exit 1 ;;
  esac
  shift
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "bench-server.sh: --rounds wants a positive integer" >&2; exit 1; }
[[ $TIMEOUT =~ ^[1-9][0-9]*$ ]] || { echo "bench-server.sh: --timeout wants whole seconds" >&2; exit 1; }
[[ $RUNS_LIST =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || { echo "bench-server.sh: --runs wants N[,N...]" >&2; exit 1; }
wants() { [[ ",$ONLY," == *",$1,"* ]]; }

scripts/deps.sh jq curl >/dev/null
if [ -z "$ZENFS" ]; then
  BUILD_DIR=${BUILD_DIR:-build} BUILD_TARGET=zenfs scripts/build.sh >/dev/null
  ZENFS=$REPO/${BUILD_DIR:-build}/zenfs
fi
server_script=${ZENFS_ZENML_SERVER_SCRIPT:-$(realpath -m "$REPO/../shared/zenml-server/start-zenml-server.sh")}
server_work=/var/tmp/zenml-0.74-server  # the unpacked environment, shared with the tests
[ -x "$server_script" ] || { echo "bench-server.sh: no ZenML server script at $server_script" >&2; exit 1; }
mkdir -p "$WORK/stores"
run=$(mktemp -d "$WORK/run-XXXXXX")
mnt=$run/mnt
mkdir -p "$mnt"
server_pid=
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM -- "-$server_pid" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$server_pid" 2>/dev/null || true
  fi
  server_pid=
}
cleanup() {
  if grep -qs " $mnt " /proc/self/mounts; then "$ZENFS" umount "$mnt" || fusermount3 -uz "$mnt" || true; fi
  stop_server
  rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }
since() { echo "$(now) $1" | awk '{printf "%.2f", $1 - $2}'; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "-"; else if (NR % 2) print a[(NR+1)/2]; else printf "%.2f\n", (a[NR/2]+a[NR/2+1])/2}'; }

# The server's Python: the machine's python3 with the server environment on its path, as
# start-zenml-server.sh runs it (the first server start unpacks it).
zenml_python() {
  env PYTHONPATH="$server_work/zenml-0.74-server-env:$server_work/debian" PYTHONDONTWRITEBYTECODE=1 \
      ZENML_ANALYTICS_OPT_IN=false ZENML_ENABLE_REPO_INIT_WARNINGS=false ZENML_LOGGING_VERBOSITY=ERROR "$@"
}

# shellcheck source=scripts/demo-show.sh
source scripts/demo-show.sh

start_server() {  # DB -> sets url, server_pid
  start_zenml_server "$server_script" "$server_work" "$1" "$run/server.log"
  url=$server_url
  for _ in $(seq 1 3000); do
    kill -0 "$server_pid" 2>/dev/null || { tail -n 30 "$run/server.log" >&2; exit 1; }
    [ "$(curl -s -m 5 "$url/health" || true)" = '"OK"' ] && break
    sleep 0.2
  done
  exec 9>&-
  [ "$(curl -s -m 5 "$url/health" || true)" = '"OK"' ] || { echo "bench-server.sh: no server on $url" >&2; exit 1; }
}

make_key() {  # NAME -> $run/api.key (mode 600)
  local token account
  token=$(curl -sf -m 300 --data-urlencode username=default --data-urlencode password= "$url/api/v1/login" |
            jq -r .access_token)
  account=$(curl -sf -m 300 -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
              -d "{\"name\": \"$1\", \"active\": true}" "$url/api/v1/service_accounts" | jq -r .id)
  (umask 077
   curl -sf -m 300 -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
     -d "{\"name\": \"$1\"}" "$url/api/v1/service_accounts/$account/api_keys" | jq -r .body.key > "$run/api.key")
}

# The peer: ZenML's client pages through every run, unhydrated, at the largest page.
# Prints "RUNS LIST_SECONDS".
client_list() {
  mkdir -p "$run/zenml-config"
  ZENML_CONFIG_PATH=$run/zenml-config ZENML_STORE_URL=$url ZENML_STORE_API_KEY=$(cat "$run/api.key") \
  ZENML_STORE_HTTP_TIMEOUT=$TIMEOUT zenml_python timeout "$TIMEOUT" python3 -c '
import time
from zenml.client import Client
start = time.monotonic()
client = Client()
runs, page = 0, 1
while True:
    p = client.list_pipeline_runs(size=10000, page=page, hydrate=False)
    runs += len(p.items)
    if page >= p.total_pages:
        break
    page += 1
print(runs, "%.2f" % (time.monotonic() - start))
' 2>"$run/client.err"
}

echo "== environment"
echo "date:    $(date -u +%FT%TZ)"
echo "host:    $(uname -srm), $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min) at start"
echo "zenfs:   $("$ZENFS" --version) ($(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?'))"
echo "server:  ZenML 0.74.0 (start-zenml-server.sh: uvicorn, one process, SQLite)"
echo "python:  $(python3 --version 2>&1)"
echo "rounds:  $ROUNDS, timeout ${TIMEOUT}s, runs: $RUNS_LIST"

declare -A RESULT
IFS=, read -r -a sizes <<< "$RUNS_LIST"
for n in "${sizes[@]}"; do
  store=$WORK/stores/runs$n
  if [ ! -f "$store/local_stores/default_zen_store/zenml.db" ]; then
    rm -rf "$store"
    echo "-- writing a demo store of $n runs ($store)"
    "$ZENFS" demo "$store" --schema 0.74 --runs "$n" --steps 1 --outputs 1 --artifact-bytes 0 >/dev/null
  fi
  cp "$store/local_stores/default_zen_store/zenml.db" "$run/server.db"
  t=$(now)
  start_server "$run/server.db"
  echo "-- $n runs: server on $url ready in $(since "$t") s"
  make_key "bench-$n"
  roots="$store/local_stores=$store/local_stores"
  m=() w=() p=() pw=() l1=() l4=()
  for r in $(seq 1 "$ROUNDS"); do
    if wants M || wants W; then
      t=$(now)
      if timeout "$TIMEOUT" "$ZENFS" mount "$url" "$mnt" --api-key-file "$run/api.key" --artifact-root "$roots" &&
         listed=$(timeout "$TIMEOUT" ls "$mnt/example_pipeline/runs" | wc -l); then
        m+=("$(since "$t")")
        echo "   round $r: M ${m[-1]} s ($listed entries in runs/)"
        if wants W; then
          t=$(now)
          if entries=$(timeout "$TIMEOUT" find "$mnt" | wc -l); then
            w+=("$(since "$t")")
            echo "   round $r: W ${w[-1]} s ($entries paths)"
          else
            w+=(">$TIMEOUT")
          fi
        fi
      else
        m+=(">$TIMEOUT")
      fi
      "$ZENFS" umount "$mnt" 2>/dev/null || fusermount3 -uz "$mnt" 2>/dev/null || true
    fi
    if wants L; then
      token=$(curl -sf -m 600 --data-urlencode grant_type=zenml-api-key --data-urlencode "password=$(cat "$run/api.key")" \
                "$url/api/v1/login" | jq -r .access_token)
      t=$(now)
      for page in $(seq 1 $(( (n + 9999) / 10000 ))); do
        curl -sf -m "$TIMEOUT" -o /dev/null -H "Authorization: Bearer $token" \
          "$url/api/v1/runs?hydrate=true&sort_by=asc:created&size=10000&page=$page"
      done
      l1+=("$(since "$t")")
      quarter=$(( (n + 3) / 4 ))
      t=$(now)
      pids=()
      for page in 1 2 3 4; do
        curl -sf -m "$TIMEOUT" -o /dev/null -H "Authorization: Bearer $token" \
          "$url/api/v1/runs?hydrate=true&sort_by=asc:created&size=$quarter&page=$page" &
        pids+=($!)
      done
      wait "${pids[@]}"  # not a bare wait: the server is a child too
      l4+=("$(since "$t")")
      echo "   round $r: L ${l1[-1]} s in pages of 10,000, ${l4[-1]} s as 4 pages at once"
    fi
    if wants P; then
      t=$(now)
      if out=$(client_list); then
        pw+=("$(since "$t")")
        p+=("${out#* }")
        echo "   round $r: P ${p[-1]} s listing, ${pw[-1]} s with start and import (${out%% *} runs)"
      else
        p+=(">$TIMEOUT") pw+=(">$TIMEOUT")
        echo "   round $r: P failed: $(tail -n 3 "$run/client.err")"
      fi
    fi
  done
  RESULT[$n,M]=$(printf '%s\n' "${m[@]}" | grep -v '^>' | median)
  RESULT[$n,W]=$(printf '%s\n' "${w[@]}" | grep -v '^>' | median)
  RESULT[$n,P]=$(printf '%s\n' "${p[@]}" | grep -v '^>' | median)
  RESULT[$n,PW]=$(printf '%s\n' "${pw[@]}" | grep -v '^>' | median)
  RESULT[$n,L1]=$(printf '%s\n' "${l1[@]}" | grep -v '^>' | median)
  RESULT[$n,L4]=$(printf '%s\n' "${l4[@]}" | grep -v '^>' | median)
  stop_server
done

echo
echo "== medians (seconds; - = not run or every round over the timeout)"
printf '%-58s' "row"
for n in "${sizes[@]}"; do printf '%14s' "$n runs"; done
echo
row() {
  printf '%-58s' "$1"
  for n in "${sizes[@]}"; do printf '%14s' "${RESULT[$n,$2]:--}"; done
  echo
}
row "M  zenfs: mount, then ls runs/" M
row "W  zenfs: first walk (find of the mount)" W
row "L  hydrated runs (curl): pages of 10,000, one at a time" L1
row "   hydrated runs (curl): 4 pages of a quarter, at once" L4
row "P  ZenML client: list_pipeline_runs, all pages" P
row "   ZenML client: the same with python start and import" PW
