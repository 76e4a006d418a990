#!/usr/bin/env bash
# Configures and builds zenfs into BUILD_DIR (default: build/). Extra args go to cmake's
# configure step; warnings are errors (-DZENFS_WERROR=ON). BUILD_TARGET (default: all) picks what to build.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZENFS_WERROR=ON "$@" >/dev/null
cmake --build "$build" -j"$(nproc)" --target "${BUILD_TARGET:-all}"
