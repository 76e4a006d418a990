# shellcheck shell=bash
# A private MariaDB server for scripts (scripts/demo-mysql.sh, scripts/bench-mysql.sh):
# Debian's mariadbd on 127.0.0.1 and a free port, with its own data directory, run with
# --no-defaults (no /etc/mysql, no ~/.my.cnf, never the system service), as
# tests/mariadb_server.cc starts the tests' one. Source this file, then:
#
#   mariadb_start BASE [BUFFER_POOL]  # BASE: an empty or missing folder; sets MARIADB_PORT,
#                                     # MARIADB_PID, MARIADB_SOCK
#   mariadb_sql "SQL"                 # as root over the socket (no password; this server only)
#   mariadb_stop                      # SIGTERM, a generous wait, then SIGKILL
#
# shellcheck disable=SC2034  # the variables are for the scripts that source this file
# The caller removes BASE (after mariadb_stop) and should trap EXIT to stop the server.

MARIADB_PORT="" MARIADB_PID="" MARIADB_SOCK="" MARIADB_BASE=""

mariadb_sql() {
  mariadb --no-defaults --socket="$MARIADB_SOCK" -uroot --batch --skip-column-names -e "$1"
}

_mariadb_port_free() {  # nothing answers on 127.0.0.1:$1
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

mariadb_start() {
  local base=$1 pool=${2:-256M} user=() attempt port i
  MARIADB_BASE=$base
  mkdir -p "$base/tmp"
  [ "$(id -u)" != 0 ] || user=(--user=root)
  # A socket path must fit in sun_path (108 bytes): a deep BASE gets a short one in /tmp.
  MARIADB_SOCK=$base/mariadbd.sock
  [ ${#MARIADB_SOCK} -lt 100 ] || MARIADB_SOCK=$(mktemp -d /tmp/zenfs-mariadb-XXXXXX)/mariadbd.sock
  if [ ! -d "$base/data/mysql" ]; then
    mariadb-install-db --no-defaults --datadir="$base/data" "${user[@]}" --innodb-log-file-size=64M \
      --auth-root-authentication-method=normal --skip-test-db > "$base/install.log" 2>&1 \
      || { echo "mariadb-install-db failed; see $base/install.log" >&2; return 1; }
  fi
  for attempt in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 40000))
    _mariadb_port_free "$port" || continue
    /usr/sbin/mariadbd --no-defaults --datadir="$base/data" "${user[@]}" --innodb-log-file-size=64M \
      --bind-address=127.0.0.1 --port="$port" --socket="$MARIADB_SOCK" --pid-file="$base/mariadbd.pid" \
      --log-error="$base/mariadbd.log" --tmpdir="$base/tmp" --secure-file-priv="$base/tmp" \
      --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci --skip-name-resolve \
      --innodb-buffer-pool-size="$pool" --innodb-flush-log-at-trx-commit=2 \
      --skip-innodb-buffer-pool-dump-at-shutdown --skip-innodb-buffer-pool-load-at-startup \
      > /dev/null 2>&1 &
    MARIADB_PID=$!
    for ((i = 0; i < 900; i++)); do  # 90 s
      if ! kill -0 "$MARIADB_PID" 2>/dev/null; then break; fi
      if mariadb_sql "SELECT 1" > /dev/null 2>&1; then
        MARIADB_PORT=$port
        return 0
      fi
      sleep 0.1
    done
    if kill -0 "$MARIADB_PID" 2>/dev/null; then
      echo "mariadbd did not answer within 90 s; see $base/mariadbd.log" >&2
      mariadb_stop
      return 1
    fi
    wait "$MARIADB_PID" 2>/dev/null || true
    echo "mariadbd exited while starting on port $port (attempt $attempt); see $base/mariadbd.log" >&2
  done
  MARIADB_PID=""
  return 1
}

mariadb_stop() {
  local i
  [ -n "$MARIADB_PID" ] || return 0
  if kill -0 "$MARIADB_PID" 2>/dev/null; then
    kill -TERM "$MARIADB_PID" 2>/dev/null || true
    for ((i = 0; i < 600; i++)); do kill -0 "$MARIADB_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$MARIADB_PID" 2>/dev/null; then
      echo "mariadbd (pid $MARIADB_PID) ignored SIGTERM for 60 s; killing it" >&2
      kill -KILL "$MARIADB_PID" 2>/dev/null || true
    fi
  fi
  wait "$MARIADB_PID" 2>/dev/null || true
  [ "$MARIADB_SOCK" = "$MARIADB_BASE/mariadbd.sock" ] || rm -rf "$(dirname "$MARIADB_SOCK")"
  MARIADB_PID=""
}
