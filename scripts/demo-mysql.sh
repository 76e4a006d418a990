#!/usr/bin/env bash
# A ZenML store kept in MySQL/MariaDB, end to end: installs dependencies, builds zenfs,
# starts a private MariaDB server (127.0.0.1, a free port, its own data directory under a
# temporary folder, --no-defaults: never the system service), makes a database and a
# SELECT-only account, writes a demo store with `zenfs demo DIR --mysql URL`, mounts the
# MySQL store read-only through that account, shows it, unmounts, stops the server and
# removes its folder (also when something fails).
# Environment: ZENFS_DEMO_RUNS (default 20) sizes the store; ZENFS_DEMO_KEEP=1 keeps the
# temporary folder (the SQLite twin and the server's log) and prints where it is.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh jq
BUILD_DIR=build BUILD_TARGET=zenfs scripts/build.sh
zenfs=$PWD/build/zenfs
# shellcheck source=scripts/mariadb-private.sh
source scripts/mariadb-private.sh

work=$(mktemp -d /tmp/zenfs-demo-mysql-XXXXXX)
store=$work/store
mnt=$work/mnt
cleanup() {
  if grep -qs " $mnt " /proc/self/mounts; then "$zenfs" umount "$mnt" || fusermount3 -uz "$mnt" || true; fi
  mariadb_stop
  if [ "${ZENFS_DEMO_KEEP:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

# shellcheck source=scripts/demo-show.sh
source scripts/demo-show.sh

mariadb_start "$work/server" 128M
echo "a private MariaDB on 127.0.0.1:$MARIADB_PORT (data in $work/server)"
# The writer is root of this throwaway server; the reader may only SELECT. Its password
# goes in a file, so that no command line shows it.
reader_pw=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
mariadb_sql "CREATE DATABASE zenml CHARACTER SET utf8mb4;
  CREATE USER 'zenfs_reader'@'127.0.0.1' IDENTIFIED BY '$reader_pw';
  GRANT SELECT ON zenml.* TO 'zenfs_reader'@'127.0.0.1';"
printf '%s\n' "$reader_pw" > "$work/reader.pw"
chmod 600 "$work/reader.pw"
url=mysql://zenfs_reader@127.0.0.1:$MARIADB_PORT/zenml

say zenfs demo "$store" --runs "${ZENFS_DEMO_RUNS:-20}" --artifact-bytes 1M --mysql "mysql://root@127.0.0.1:$MARIADB_PORT/zenml"
"$zenfs" demo "$store" --runs "${ZENFS_DEMO_RUNS:-20}" --artifact-bytes 1M --mysql "mysql://root@127.0.0.1:$MARIADB_PORT/zenml"

mkdir -p "$mnt"
# The demo's artifact URIs are absolute paths into $store/local_stores: that folder is
# the trusted root for the MySQL store (a database names no folder of its own).
say zenfs mount "$url" "$mnt" --password-file "$work/reader.pw" --artifact-root "$store/local_stores=$store/local_stores"
"$zenfs" mount "$url" "$mnt" --password-file "$work/reader.pw" --artifact-root "$store/local_stores=$store/local_stores"

show_mount "$mnt"
say "diff <(zenfs ls $store) <(zenfs ls $url ...)   # the SQLite twin in DIR shows the same tree"
same_tree "$zenfs" "$store" "$url" --password-file "$work/reader.pw" \
  --artifact-root "$store/local_stores=$store/local_stores"
say zenfs umount "$mnt"
"$zenfs" umount "$mnt"
echo
echo "done: the server is stopped and $work removed on exit"
