#!/usr/bin/env bash
# Scaling out and backups, end to end with the debug binary:
#
#   1. two instances (`serve`, separate data directories, the same JWT_SECRET, settable clock,
#      both job workers on) on one PostgreSQL behind nginx (deploy/nginx-proxy.conf), an SMTP
#      sink (smtp_sink.py); check.py checks tokens, documents and the pool across instances,
#      and 20 admissions with their e-mails while one instance is killed with SIGKILL;
#   2. PostgreSQL backup: pg_dump -Fc of that database, pg_restore into an empty one, an
#      instance on it serves the same pool export and documents, and the audit chain verifies;
#   3. SQLite backup: `serve --demo`, `provider-registry backup` while it runs, `restore` into
#      an empty data directory (a non-empty one is refused), the same comparison.
#
#   scripts/scaleout/run.sh [--postgres URL]
#
# Without --postgres (or SCALEOUT_POSTGRES_URL) a throwaway PostgreSQL cluster is started and
# removed. Ports are free ones, or SCALEOUT_PORT_BASE+0…9. Logs in target/scaleout/.
# Installs nginx with apt-get if missing. Exits 1 if any check failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
HERE=scripts/scaleout

POSTGRES_URL="${SCALEOUT_POSTGRES_URL:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --postgres) POSTGRES_URL="$2"; shift 2 ;;
    *) echo "usage: $0 [--postgres URL]" >&2; exit 2 ;;
  esac
done

STARTED=$SECONDS
log() { printf '\n== [%3ds] %s\n' "$((SECONDS - STARTED))" "$*"; }
FAILED=()
fail() { FAILED+=("$1"); printf 'FAIL: %s\n' "$1"; }

REPORT="${CARGO_TARGET_DIR:-target}/scaleout"
rm -rf "$REPORT"
mkdir -p "$REPORT"
REPORT="$(cd "$REPORT" && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/scaleout.XXXXXX")"
chmod 755 "$WORK"
PIDS=()
DATABASES=()
PGDIR=""
PSQL=""
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
run_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  for db in "${DATABASES[@]}"; do
    "$PSQL" "$POSTGRES_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  if [ -n "$PGDIR" ]; then
    run_pg "$(pg_bin)/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK" "$PGDIR"
}
trap cleanup EXIT

# ---- tools ---------------------------------------------------------------------------------
NGINX="$(command -v nginx || ls /usr/sbin/nginx 2>/dev/null || true)"
if [ -z "$NGINX" ]; then
  log "installing nginx"
  as_root apt-get update -q >/dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx-light >/dev/null 2>&1 ||
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q nginx >/dev/null
  NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
fi
PG_BIN="$(pg_bin)"
PSQL="$(command -v psql || echo "$PG_BIN/psql")"

log "cargo build (debug)"
cargo build --quiet --bin provider-registry
BIN="$(pwd)/${CARGO_TARGET_DIR:-target}/debug/provider-registry"

# port N: SCALEOUT_PORT_BASE+N, or a free port.
port() {
  if [ -n "${SCALEOUT_PORT_BASE:-}" ]; then
    echo $((SCALEOUT_PORT_BASE + $1))
  else
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
  fi
}

if [ -z "$POSTGRES_URL" ]; then
  PGDIR="$(mktemp -d "${TMPDIR:-/tmp}/scaleout-pg.XXXXXX")"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$PGDIR"; fi
  PGPORT="$(port 0)"
  log "starting a throwaway PostgreSQL on port $PGPORT"
  run_pg "$PG_BIN/initdb" -D "$PGDIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  run_pg "$PG_BIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w \
    -o "-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
  POSTGRES_URL="postgres://postgres@127.0.0.1:$PGPORT/postgres"
fi
# Creates database scaleout_<pid>_$1 (dropped at exit); sets NEW_DATABASE_URL.
new_database() {
  local name="scaleout_$$_$1"
  "$PSQL" "$POSTGRES_URL" -qc "CREATE DATABASE $name" >/dev/null
  DATABASES+=("$name")
  NEW_DATABASE_URL="${POSTGRES_URL%/*}/$name"
}

JWT_SECRET="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
STAFF_PASSWORD="scaleout-staff-password-2026"
ADMIN_EMAIL="admin@scaleout.local"
REVIEWER_EMAIL="reviewer@scaleout.local"
PDF="fixtures/pdf/libreoffice.pdf"

# Starts an instance in the background: name, port, data dir, database URL ("" for SQLite in
# the data dir), extra `serve` arguments. Sets PID_<name>.
start_instance() {
  local name="$1" port="$2" dir="$3" url="$4"; shift 4
  (
    if [ -n "$url" ]; then export DATABASE_URL="$url"; else unset DATABASE_URL; fi
    export JWT_SECRET REGISTRY_TEST_CLOCK=1 REGISTRY_JOBS=1 JOB_POLL_INTERVAL_MS=100 \
      RUST_LOG=warn REGISTRY_ENV=development REGISTRY_TRUSTED_PROXIES=127.0.0.1 \
      SMTP_URL="smtp://127.0.0.1:$SMTP_PORT?tls=none" SMTP_TIMEOUT_SECONDS=600 \
      JOB_LEASE_SECONDS=30
    exec "$BIN" --data-dir "$dir" serve --bind "127.0.0.1:$port" "$@"
  ) >"$REPORT/instance-$name.log" 2>&1 &
  printf -v "PID_$name" '%s' "$!"
  PIDS+=("$!")
}
wait_ready() {
  local name="$1" port="$2" pid="PID_$1"
  for _ in $(seq 1 600); do
    if curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "${!pid}" 2>/dev/null; then break; fi
    sleep 0.2
  done
  tail -n 30 "$REPORT/instance-$name.log" >&2
  echo "instance $name did not become ready" >&2
  exit 1
}
create_staff() {
  local url="$1" dir="$2"
  for role in admin reviewer; do
    printf '%s\n' "$STAFF_PASSWORD" | DATABASE_URL="$url" JWT_SECRET="$JWT_SECRET" RUST_LOG=warn \
      "$BIN" --data-dir "$dir" create-user --role "$role" --email "$role@scaleout.local" >/dev/null
  done
}

SMTP_PORT="$(port 1)"
SMTP_OUT="$WORK/mail.jsonl"
SMTP_CONTROL="$WORK/smtp-control"
: >"$SMTP_CONTROL"
python3 "$HERE/smtp_sink.py" "$SMTP_PORT" "$SMTP_OUT" "$SMTP_CONTROL" >"$REPORT/smtp.log" 2>&1 &
PIDS+=("$!")

# ---- 1. two instances behind nginx -----------------------------------------------------------
new_database main
DB_URL="$NEW_DATABASE_URL"
log "migrate, and the staff accounts (create-user)"
DATABASE_URL="$DB_URL" "$BIN" --data-dir "$WORK/data-a" migrate
create_staff "$DB_URL" "$WORK/data-a"
PORT_A="$(port 2)"; PORT_B="$(port 3)"; PORT_NGINX="$(port 4)"
log "instances A (:$PORT_A) and B (:$PORT_B) on one PostgreSQL"
start_instance A "$PORT_A" "$WORK/data-a" "$DB_URL"
start_instance B "$PORT_B" "$WORK/data-b" "$DB_URL"
wait_ready A "$PORT_A"
wait_ready B "$PORT_B"

log "nginx (:$PORT_NGINX) in front of both"
mkdir -p "$WORK/nginx"
cp deploy/nginx-proxy.conf "$WORK/nginx/"
USER_LINE=""
if [ "$(id -u)" -eq 0 ]; then USER_LINE="user root;"; fi
cat >"$WORK/nginx/nginx.conf" <<EOF
$USER_LINE
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $REPORT/nginx-error.log warn;
events { worker_connections 256; }
http {
    access_log $REPORT/nginx-access.log;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    upstream provider_registry {
        server 127.0.0.1:$PORT_A max_fails=1 fail_timeout=5s;
        server 127.0.0.1:$PORT_B max_fails=1 fail_timeout=5s;
        keepalive 8;
    }
    server {
        listen 127.0.0.1:$PORT_NGINX;
        location / {
            include $WORK/nginx/nginx-proxy.conf;
            proxy_pass http://provider_registry;
        }
    }
}
EOF
"$NGINX" -t -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" >"$REPORT/nginx-test.log" 2>&1 ||
  { cat "$REPORT/nginx-test.log" >&2; exit 1; }
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" &
PIDS+=("$!")
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$PORT_NGINX/readyz" >/dev/null 2>&1 && break; sleep 0.1; done

log "the two-instance checks (check.py scaleout)"
if NGINX="http://127.0.0.1:$PORT_NGINX" A="http://127.0.0.1:$PORT_A" B="http://127.0.0.1:$PORT_B" \
  PID_A="$PID_A" PID_B="$PID_B" ADMIN_EMAIL="$ADMIN_EMAIL" REVIEWER_EMAIL="$REVIEWER_EMAIL" \
  STAFF_PASSWORD="$STAFF_PASSWORD" SMTP_OUT="$SMTP_OUT" SMTP_CONTROL="$SMTP_CONTROL" PDF="$PDF" \
  PSQL="$PSQL" DATABASE_URL="$DB_URL" CLOCK_OUT="$WORK/clock" python3 "$HERE/check.py" scaleout; then :; else
  fail "two instances"
fi
for name in A B; do
  pid="PID_$name"
  if kill -0 "${!pid}" 2>/dev/null; then SURVIVOR="$name"; SURVIVOR_PORT="$([ "$name" = A ] && echo "$PORT_A" || echo "$PORT_B")"; fi
done

# ---- 2. PostgreSQL: pg_dump -Fc / pg_restore ---------------------------------------------------
log "PostgreSQL backup: pg_dump -Fc, pg_restore into an empty database"
PG_DUMP="$(command -v pg_dump || echo "$PG_BIN/pg_dump")"
PG_RESTORE="$(command -v pg_restore || echo "$PG_BIN/pg_restore")"
# Both compared at the clock the checks left the survivor at (the export is of a date).
export SNAPSHOT_CLOCK="$(cat "$WORK/clock" 2>/dev/null || true)"
python3 "$HERE/check.py" snapshot "http://127.0.0.1:$SURVIVOR_PORT" "$ADMIN_EMAIL" "$STAFF_PASSWORD" "$WORK/pg-before.json"
"$PG_DUMP" -Fc --no-owner -f "$WORK/registry.dump" "$DB_URL"
new_database restored
RESTORED_URL="$NEW_DATABASE_URL"
"$PG_RESTORE" --no-owner --exit-on-error -d "$RESTORED_URL" "$WORK/registry.dump"
printf '   dump: %s bytes\n' "$(stat -c %s "$WORK/registry.dump")"
PORT_R="$(port 5)"
start_instance R "$PORT_R" "$WORK/data-r" "$RESTORED_URL"
wait_ready R "$PORT_R"
python3 "$HERE/check.py" snapshot "http://127.0.0.1:$PORT_R" "$ADMIN_EMAIL" "$STAFF_PASSWORD" "$WORK/pg-after.json"
python3 "$HERE/check.py" same "$WORK/pg-before.json" "$WORK/pg-after.json" || fail "PostgreSQL restore"
unset SNAPSHOT_CLOCK
if DATABASE_URL="$RESTORED_URL" "$BIN" --data-dir "$WORK/data-r" verify-audit >"$REPORT/verify-audit-pg.txt"; then
  echo "PASS: the restored PostgreSQL database's audit chain verifies"
else
  fail "the restored PostgreSQL database's audit chain"
fi

# ---- 3. SQLite: backup while serving, restore into an empty data directory --------------------
log "SQLite backup: serve --demo, backup while it runs, restore into an empty data directory"
PORT_S="$(port 6)"
# Ready once the demo data is in: it loads before the server listens.
DEMO_POOL_SIZE=40 start_instance S "$PORT_S" "$WORK/data-s" "" --demo
wait_ready S "$PORT_S"
python3 "$HERE/check.py" snapshot "http://127.0.0.1:$PORT_S" admin@demo.local demo-password-2026 "$WORK/sqlite-before.json"
"$BIN" --data-dir "$WORK/data-s" backup "$WORK/sqlite-backup" >"$REPORT/backup.json"
mkdir -p "$WORK/not-empty" && touch "$WORK/not-empty/something"
if "$BIN" --data-dir "$WORK/not-empty" restore "$WORK/sqlite-backup" >/dev/null 2>"$REPORT/restore-refused.txt"; then
  fail "restore into a non-empty data directory was not refused"
else
  echo "PASS: restore into a non-empty data directory is refused ($(head -c 120 "$REPORT/restore-refused.txt"))"
fi
"$BIN" --data-dir "$WORK/data-t" restore "$WORK/sqlite-backup" >"$REPORT/restore.json"
PORT_T="$(port 7)"
start_instance T "$PORT_T" "$WORK/data-t" ""
wait_ready T "$PORT_T"
python3 "$HERE/check.py" snapshot "http://127.0.0.1:$PORT_T" admin@demo.local demo-password-2026 "$WORK/sqlite-after.json"
python3 "$HERE/check.py" same "$WORK/sqlite-before.json" "$WORK/sqlite-after.json" || fail "SQLite restore"
if "$BIN" --data-dir "$WORK/data-t" verify-audit >"$REPORT/verify-audit-sqlite.txt"; then
  echo "PASS: the restored SQLite database's audit chain verifies"
else
  fail "the restored SQLite database's audit chain"
fi

log "done in $((SECONDS - STARTED)) s"
if [ ${#FAILED[@]} -gt 0 ]; then
  printf 'failed: %s\n' "${FAILED[@]}"
  exit 1
fi
echo "all scale-out and backup checks passed"
