#!/usr/bin/env bash
# Installs what zenfs needs to build and test, from Debian's packages. Skips apt-get
# entirely when every package is already installed. Usage: scripts/deps.sh [extra-pkg...]
# mariadb-server is only for the tests (mariadbd and mariadb-install-db for a private
# server, the mariadb client to load dumps); they never use its system service.
# libmariadb-dev is MariaDB Connector/C (it also speaks to MySQL 8).
# libgraphviz-dev lays out and renders the runs' pictures (fs/dag.h); libxml2-dev is only
# for the tests (they check those pictures are well-formed XML).
set -euo pipefail
pkgs=(cmake g++ make pkg-config fuse3 libfuse3-dev libsqlite3-dev sqlite3 nlohmann-json3-dev
      libgtest-dev googletest libcli11-dev libssl-dev zlib1g-dev libyaml-cpp-dev libsystemd-dev systemd
      mariadb-server libmariadb-dev libcurl4-openssl-dev libcrypt-dev libxxhash-dev libgraphviz-dev
      libxml2-dev "$@")
missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# The S3 tests' server (tests/moto_server.h) is moto's server mode, from the python3 on
# PATH (or $ZENFS_PYTHON): the machine image has moto and Flask; Debian packages no moto.
# Said here, not failed here: only zenfs_s3_tests needs it, and it says so again.
if ! "${ZENFS_PYTHON:-python3}" -c "import moto.server, flask" 2>/dev/null; then
  echo "warning: ${ZENFS_PYTHON:-python3} cannot import moto.server and flask: the S3 tests" \
       "(zenfs_s3_tests) need moto's server mode (Python package moto[server])" >&2
fi
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
# Another apt may hold the lock (unattended upgrades): wait for it rather than fail.
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
