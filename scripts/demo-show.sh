# Sourced by the demo scripts (demo-mysql.sh, demo-server.sh): `say` prints a command as a
# user would type it, `show_mount MNT` shows what a user sees in a mounted demo store.
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
