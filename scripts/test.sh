#!/usr/bin/env bash
# Installs dependencies, builds, and runs every test: unit, tree and real-mount tests on
# a RelWithDebInfo build, then the unit and tree tests again under ASan+UBSan, the tree,
# live and stress tests under ThreadSanitizer, then a
# bounded, seeded libFuzzer run (clang) over the committed corpus.
# Environment: ZENFS_REQUIRE_FUSE=1 makes a missing /dev/fuse a failure instead of a
# skip; ZENFS_ZENML_SAMPLE names the genuine ZenML stores for the conformance test
# (':'-separated); ZENFS_ZENML_MYSQL_SAMPLE the folder of the genuine ZenML MariaDB dump
# (zenml.sql) for the MySQL tests (label mysql: one binary, one private mariadbd).
# `scripts/test.sh --full` then also builds and checks the Debian package
# (scripts/package.sh: a Release build, dpkg -i, a mount, lintian, dpkg -r) and takes a
# headless Chromium screenshot of a mounted run's dag.svg (scripts/dag-screenshot.sh),
# which CI's plain `scripts/test.sh` leaves out for time.
set -euo pipefail
cd "$(dirname "$0")/.."
full=0
for arg in "$@"; do
  case "$arg" in
    --full) full=1 ;;
    *) echo "usage: scripts/test.sh [--full]" >&2; exit 1 ;;
  esac
done
scripts/deps.sh clang libclang-rt-14-dev
if [ -n "${ZENFS_ZENML_SAMPLE:-}" ]; then
  # ctest runs tests in other directories: the paths (':'-separated) must not be relative.
  samples=()
  IFS=: read -r -a listed <<<"$ZENFS_ZENML_SAMPLE"
  for s in "${listed[@]}"; do samples+=("$(realpath "$s")"); done
  ZENFS_ZENML_SAMPLE=$(IFS=:; echo "${samples[*]}")
  export ZENFS_ZENML_SAMPLE
fi
if [ -n "${ZENFS_ZENML_MYSQL_SAMPLE:-}" ]; then
  ZENFS_ZENML_MYSQL_SAMPLE=$(realpath "$ZENFS_ZENML_MYSQL_SAMPLE")
  export ZENFS_ZENML_MYSQL_SAMPLE
fi
jobs=$(nproc)

# Mount and live tests drive a real daemon through the kernel on a machine that may be
# busy (CI: 2 cores, sanitizer builds): one of them that fails is run once more, and the
# first failure stays in the output. Unit and tree tests get no second try.
retry=(--repeat until-pass:2)

BUILD_DIR=build scripts/build.sh
(cd build && ctest --output-on-failure -j"$jobs" --timeout 600 -L unit)
(cd build && ctest --output-on-failure -j"$jobs" --timeout 600 -LE unit "${retry[@]}")

BUILD_DIR=build-asan scripts/build.sh -DZENFS_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
   UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
   ctest --output-on-failure -j"$jobs" -L unit --timeout 900)

# ThreadSanitizer: the tree and block cache tests in-process, and the live and stress
# tests against a TSan-built daemon (the tests' RSS bounds are off in sanitizer builds).
BUILD_DIR=build-tsan scripts/build.sh -DZENFS_TSAN=ON
(cd build-tsan && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ZENFS_STRESS_SECONDS=20 \
   ctest --output-on-failure -j"$jobs" -R 'TreeTest|DiffSnapshots|BlockCacheTest|Dag' --timeout 900)
(cd build-tsan && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 ZENFS_STRESS_SECONDS=20 \
   ctest --output-on-failure -j"$jobs" -R 'LiveTest|LiveJournalTest' --timeout 900 "${retry[@]}")
# The MySQL tests against a TSan-built daemon: a live store, a server that goes away and
# comes back (the pool, reconnects and their log lines across FUSE workers).
(cd build-tsan && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
   ctest --output-on-failure -L mysql --timeout 900 "${retry[@]}")

BUILD_DIR=build-fuzz CC=clang CXX=clang++ scripts/build.sh -DZENFS_FUZZ=ON
(cd build-fuzz && ctest --output-on-failure -L fuzz --timeout 300)

if [ "$full" = 1 ]; then
  scripts/package.sh
  # A headless Chromium screenshot of a mounted run's dag.svg, checked not blank
  # (installing Chromium is too slow for every CI run).
  scripts/dag-screenshot.sh build
fi
