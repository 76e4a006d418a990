#!/usr/bin/env bash
# Throughput of the node-wide block cache with 1 MiB blocks on this machine's disk: put,
# put + syncfs, get warm and cold, and the checksums alone (tests/bench/cache_bench.cc says
# what each row is). Arguments go to zenfs_cache_bench: [--dir DIR] [--blocks N] [--rounds R].
#
#   scripts/bench-cache.sh                       512 MiB under /var/tmp, 3 rounds
#   scripts/bench-cache.sh --dir /var/cache/zenfs-bench --blocks 2048
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
BUILD_DIR=$build BUILD_TARGET=zenfs_cache_bench scripts/build.sh
echo "$(nproc) CPUs, $(uname -r), $(df -h --output=source,fstype,size /var/tmp | tail -1)"
"$build/zenfs_cache_bench" "$@"
