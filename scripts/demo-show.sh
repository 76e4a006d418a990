# Sourced by the demo scripts (demo-mysql.sh, demo-server.sh): `say` prints a command as a
# user would type it, `show_mount MNT` shows what a user sees in a mounted demo store,
# `same_tree ZENFS STORE OTHER...` checks that `zenfs ls OTHER...` (the same store reached
# another way) prints STORE's tree, and exits 1 if not. `start_zenml_server` starts
# ZenML's server in the background (demo-server.sh, bench-server.sh).
# shellcheck shell=bash

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }

show_mount() {
  local mnt=$1
  local run="$mnt/example_pipeline/runs/latest"
  say ls "$mnt"
  ls "$mnt"
  say ls -l "$run/" "(latest -> $(readlink "$mnt/example_pipeline/runs/latest"))"
  ls -l "$run/"
  say jq . "$mnt/meta.json"
  jq . "$mnt/meta.json"
  say jq '{status, start_time, end_time, duration_s}' "$run/steps/step_1/meta.json"
  jq '{status, start_time, end_time, duration_s}' "$run/steps/step_1/meta.json"
  say cat "$run/steps/step_1/output/data.json"
  cat "$run/steps/step_1/output/data.json"; echo
}

same_tree() {
  local zenfs=$1 store=$2
  shift 2
  if diff <("$zenfs" ls "$store") <("$zenfs" ls "$@") > /dev/null; then
    echo "same tree ($("$zenfs" ls "$store" | wc -l) paths)"
  else
    echo "the trees differ" >&2
    exit 1
  fi
}

# start_zenml_server SCRIPT WORKDIR DB LOG: starts ZenML's server script over DB on a free
# loopback port, its output in LOG, in a process group of its own (setsid: stop it with a
# signal to -$server_pid); sets server_url and server_pid. The first start on a machine
# unpacks the server's environment into WORKDIR: the tests hold WORKDIR.lock while they
# start one, so the two never unpack over each other. The server must not inherit the
# lock (9>&-); the caller releases it (exec 9>&-) once the server answers.
start_zenml_server() {
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  server_url=http://127.0.0.1:$port
  exec 9>"$2.lock"
  flock -w 600 9
  setsid "$1" "$3" "$port" "$2" > "$4" 2>&1 9>&- &
  server_pid=$!
}
