#!/usr/bin/env bash
# The main job in one command: installs dependencies, builds zenfs, writes a demo ZenML
# store, mounts it, and shows what a user sees. The mount stays up for you to explore.
# Environment: ZENFS_DEMO_DIR (default /tmp/zenfs-demo) holds the store and the mountpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
BUILD_DIR=build BUILD_TARGET=zenfs scripts/build.sh
zenfs=$PWD/build/zenfs
dir=${ZENFS_DEMO_DIR:-/tmp/zenfs-demo}
store=$dir/store
mnt=$dir/mnt
mkdir -p "$dir" "$mnt"
if grep -qs " $mnt " /proc/self/mounts; then "$zenfs" umount "$mnt"; fi
if [ ! -e "$store/local_stores/default_zen_store/zenml.db" ]; then
  "$zenfs" demo "$store"  # today's ZenML layout (0.97.0): projects, nested runs, log sources
fi
"$zenfs" mount "$store" "$mnt"

run="$mnt/example_pipeline/runs/latest"
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
say ls "$mnt"
ls "$mnt"
say ls -l "$run/" "(latest -> $(readlink "$mnt/example_pipeline/runs/latest"))"
ls -l "$run/"
say ls -l "$run/steps/step_1/"
ls -l "$run/steps/step_1/"
say cat "$run/steps/step_1/meta.json"
cat "$run/steps/step_1/meta.json"
say cat "$run/steps/step_1/output/data.json"
cat "$run/steps/step_1/output/data.json"; echo
nested="$mnt/nested_pipeline/runs/latest"
if [ -e "$nested" ]; then
  say ls -l "$nested/" "# a run with a child run, a named output and run-level logs"
  ls -l "$nested/"
  say ls -l "$nested/children/"
  ls -l "$nested/children/"
fi
big=$(find "$mnt/training_pipeline" -name model.bin -print -quit 2>/dev/null || true)
if [ -n "$big" ]; then
  say "od -A d -t x1 -N 32 $big   # first bytes of the large artifact, read lazily"
  od -A d -t x1 -N 32 "$big"
  ls -l "$big"
fi
cat <<EOT

zenfs is mounted on $mnt (store: $store).
Explore it with ls, cat, jq; unmount with:
  $zenfs umount $mnt
EOT
