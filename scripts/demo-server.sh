#!/usr/bin/env bash
# A ZenML server as the store, end to end, the way teams connect: installs dependencies,
# builds zenfs, writes a demo store in ZenML 0.74's layout, starts ZenML 0.74's own server
# over a copy of it (../shared/zenml-server/start-zenml-server.sh, 127.0.0.1, a free
# port), creates a service account and an API key for it as an admin would, mounts the
# server's URL with the key in a file (never on a command line), shows what a user sees,
# checks that `zenfs ls` over the server gives the same tree as the demo store itself, and
# unmounts, stops the server and removes its folder on exit, also on failure or Ctrl-C.
# Environment: ZENFS_DEMO_RUNS (default 20) sizes the store; ZENFS_DEMO_KEEP=1 keeps the
# temporary folder (the store, the server's copy and its log) and prints where it is;
# ZENFS_ZENML_SERVER_SCRIPT overrides the server script's path.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh jq curl
BUILD_DIR=build BUILD_TARGET=zenfs scripts/build.sh
zenfs=$PWD/build/zenfs
server_script=${ZENFS_ZENML_SERVER_SCRIPT:-$(realpath -m "$PWD/../shared/zenml-server/start-zenml-server.sh")}
server_work=/var/tmp/zenml-0.74-server  # the unpacked environment, shared with the tests
if [ ! -x "$server_script" ]; then
  echo "demo-server.sh: the ZenML server script $server_script is missing" \
       "(the shared reference beside the checkout, or set ZENFS_ZENML_SERVER_SCRIPT)" >&2
  exit 1
fi
if ! python3 -c 'import pydantic, pydantic_settings, jinja2, orjson, cryptography' 2>/dev/null; then
  echo "demo-server.sh: the ZenML server needs python3 with pydantic, pydantic-settings," \
       "Jinja2, orjson and cryptography" >&2
  exit 1
fi

work=$(mktemp -d /tmp/zenfs-demo-server-XXXXXX)
store=$work/store
mnt=$work/mnt
server_pid=
cleanup() {
  if grep -qs " $mnt " /proc/self/mounts; then "$zenfs" umount "$mnt" || fusermount3 -uz "$mnt" || true; fi
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    # The server runs in its own process group (setsid): SIGTERM to all of it, then KILL.
    kill -TERM -- "-$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$server_pid" 2>/dev/null || true
  fi
  if [ "${ZENFS_DEMO_KEEP:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=scripts/demo-show.sh
source scripts/demo-show.sh

# --schema 0.74: the layout this server serves; its `default` user has the bcrypt hash of
# the empty password, as ZenML's client writes it, so the server logs it in.
say zenfs demo "$store" --schema 0.74 --runs "${ZENFS_DEMO_RUNS:-20}" --artifact-bytes 1M
"$zenfs" demo "$store" --schema 0.74 --runs "${ZENFS_DEMO_RUNS:-20}" --artifact-bytes 1M
# The server writes the store it serves (logins, accounts): it gets a copy.
cp "$store/local_stores/default_zen_store/zenml.db" "$work/server.db"

start_zenml_server "$server_script" "$server_work" "$work/server.db" "$work/server.log"
url=$server_url
echo "starting ZenML 0.74's server on $url (pid $server_pid, log $work/server.log) ..."
for _ in $(seq 1 900); do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "demo-server.sh: the ZenML server exited while starting:" >&2
    tail -n 30 "$work/server.log" >&2
    exit 1
  fi
  if [ "$(curl -s -m 5 "$url/health" || true)" = '"OK"' ]; then break; fi
  sleep 0.2
done
exec 9>&-
if [ "$(curl -s -m 5 "$url/health" || true)" != '"OK"' ]; then
  echo "demo-server.sh: the ZenML server did not answer on $url within 180 s" >&2
  tail -n 30 "$work/server.log" >&2
  exit 1
fi
curl -s -m 30 "$url/api/v1/info" | jq '{name, version, database_type, auth_scheme}'

# What an admin does for a tool: a service account and an API key (shown once), then
# hands the key over in a file. Nothing secret is echoed.
say "POST $url/api/v1/login  username=default&password=   # the admin, to make an account"
token=$(curl -sf -m 60 --data-urlencode username=default --data-urlencode password= \
          "$url/api/v1/login" | jq -r .access_token)
if [ -z "$token" ] || [ "$token" = null ]; then
  echo "demo-server.sh: the server refused default's login" >&2
  exit 1
fi
echo "logged in (a bearer token)"
say "POST $url/api/v1/service_accounts {\"name\": \"zenfs-demo\"}, then .../api_keys"
account=$(curl -sf -m 60 -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
            -d '{"name": "zenfs-demo", "active": true}' "$url/api/v1/service_accounts" | jq -r .id)
(umask 077
 curl -sf -m 60 -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
   -d '{"name": "zenfs-demo"}' "$url/api/v1/service_accounts/$account/api_keys" |
   jq -r .body.key > "$work/api.key")
echo "service account zenfs-demo ($account); its API key is in $work/api.key (mode 600)"

mkdir -p "$mnt"
# The demo's artifact URIs are absolute paths into $store/local_stores: that folder is the
# trusted root for the server's store (the server names no folder this node can read).
roots="$store/local_stores=$store/local_stores"
say zenfs mount "$url" "$mnt" --api-key-file "$work/api.key" --artifact-root "$roots"
if ! "$zenfs" mount "$url" "$mnt" --api-key-file "$work/api.key" --artifact-root "$roots"; then
  echo "demo-server.sh: zenfs could not mount the server (a zenfs without the REST" \
       "catalog of issue 14 refuses server URLs)" >&2
  exit 1
fi

show_mount "$mnt"
say "diff <(zenfs ls $store) <(zenfs ls $url ...)   # the server shows the store's tree"
same_tree "$zenfs" "$store" "$url" --api-key-file "$work/api.key" --artifact-root "$roots"
say zenfs umount "$mnt"
"$zenfs" umount "$mnt"
echo
echo "done: the server is stopped and $work removed on exit"
