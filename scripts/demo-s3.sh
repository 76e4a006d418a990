#!/usr/bin/env bash
# A demo store whose artifacts live in S3: starts a private S3 server (moto, on a free
# loopback port, with authentication on: every request after the first three, which make
# an IAM user, its access key and an allow-all policy, must be signed), writes a demo store
# with `zenfs demo --artifact-store s3://...`, mounts it, shows it, reads an artifact twice
# (cold, then from the block cache), and removes everything (server, mount, files) on exit.
# Environment: ZENFS_DEMO_DIR (default: a fresh folder under /tmp).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! python3 -c 'import moto.server, boto3' 2>/dev/null; then
  echo "demo-s3.sh: needs Python's moto[server] and boto3 (pip install 'moto[server]' boto3)" >&2
  exit 1
fi
[ -x build/zenfs ] || BUILD_DIR=build BUILD_TARGET=zenfs scripts/build.sh
zenfs=$PWD/build/zenfs
dir=${ZENFS_DEMO_DIR:-$(mktemp -d /tmp/zenfs-demo-s3.XXXXXX)}
mkdir -p "$dir/mnt"
moto_pid=""
cleanup() {
  if grep -qs " $dir/mnt " /proc/self/mounts; then "$zenfs" umount "$dir/mnt" || true; fi
  if [ -n "$moto_pid" ]; then kill -- "-$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
endpoint=http://127.0.0.1:$port
# Its own process group, so cleanup ends the server and nothing else. tests/moto_server.py
# is moto's server with the one fix the tests need (signatures checked over the URL as
# sent).
INITIAL_NO_AUTH_ACTION_COUNT=3 setsid python3 tests/moto_server.py -H 127.0.0.1 -p "$port" >"$dir/moto.log" 2>&1 &
moto_pid=$!
# Wait for it with a bare connect: an HTTP request would use one of the three calls.
for _ in $(seq 100); do
  python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$port" 2>/dev/null && break
  sleep 0.1
done
# The three unsigned calls: a user, its key, a policy. Then only signed requests work.
read -r AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY < <(python3 - "$endpoint" <<'EOF'
import json, sys
import boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="zenfs-demo")
key = iam.create_access_key(UserName="zenfs-demo")["AccessKey"]
iam.put_user_policy(UserName="zenfs-demo", PolicyName="all", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
print(key["AccessKeyId"], key["SecretAccessKey"])
EOF
)
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION=us-east-1

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
say zenfs demo "$dir/store" --artifact-store s3://zenfs-demo/artifacts --s3-endpoint "$endpoint" --artifact-bytes 16M
"$zenfs" demo "$dir/store" --artifact-store s3://zenfs-demo/artifacts --s3-endpoint "$endpoint" --artifact-bytes 16M
say zenfs mount "$dir/store" "$dir/mnt" --cache-dir "$dir/cache"
"$zenfs" mount "$dir/store" "$dir/mnt" --cache-dir "$dir/cache"

mnt=$dir/mnt
step=$mnt/example_pipeline/runs/latest/steps/step_1
say ls -l "$step/output/"
ls -l "$step/output/"
say cat "$step/output/data.json"
cat "$step/output/data.json"; echo
say "meta.json of the output: uri, available, files"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps({k: d[k] for k in ("uri", "available", "files")}, indent=2))' \
  "$step/outputs/output/meta.json"
big=$(find "$mnt/training_pipeline" -name model.bin -print -quit)
say "time sha256sum .../model.bin   # cold: ranged GETs with read-ahead"
time sha256sum "$big"
"$zenfs" umount "$mnt"
"$zenfs" mount "$dir/store" "$mnt" --cache-dir "$dir/cache"
big=$(find "$mnt/training_pipeline" -name model.bin -print -quit)
say "time sha256sum .../model.bin   # after a remount: from the block cache"
time sha256sum "$big"
say du -sh "$dir/cache"
du -sh "$dir/cache"
echo
echo "done: the mount, the S3 server and $dir are removed on exit"
