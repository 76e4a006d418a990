# Sourced by the demo scripts (demo-mysql.sh, demo-server.sh): `say` prints a command as a
# user would type it, `show_mount MNT` shows what a user sees in a mounted demo store,
# `same_tree ZENFS STORE OTHER...` checks that `zenfs ls OTHER...` (the same store reached
# another way) prints STORE's tree, and exits 1 if not.
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
