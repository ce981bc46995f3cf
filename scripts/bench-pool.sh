#!/usr/bin/env bash
# Pool search benchmark (issue #6): starts the release build on loopback with a pool of 2,000
# entries, loads `/api/v1/pool?category=sports&per_page=20` and `/healthz` with wrk (64
# connections), and prints req/s and p99 of both and their ratio.
#
#   scripts/bench-pool.sh [sqlite|postgres]        (default sqlite)
#
# Environment: BENCH_DURATION (default 10s), BENCH_CONNECTIONS (64), BENCH_THREADS (2),
# DEMO_POOL_SIZE (2000), CARGO_TARGET_DIR (as cargo). PostgreSQL runs as a throwaway cluster of
# its own (initdb/pg_ctl from /usr/lib/postgresql/*/bin, as the `postgres` user when root),
# removed afterwards, like the data directory.
set -euo pipefail
cd "$(dirname "$0")/.."

BACKEND="${1:-sqlite}"
case "$BACKEND" in sqlite | postgres) ;; *) echo "usage: $0 [sqlite|postgres]" >&2; exit 2 ;; esac
DURATION="${BENCH_DURATION:-10s}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
THREADS="${BENCH_THREADS:-2}"
POOL_SIZE="${DEMO_POOL_SIZE:-2000}"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

if ! command -v wrk >/dev/null 2>&1; then
  echo "== installing wrk"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk
fi

echo "== cargo build --release"
cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/provider-registry"

WORK="$(mktemp -d /tmp/bench-pool.XXXXXX)"
PGDIR=""
SERVER_PID=""
PG_BIN=""
run_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ -n "$PGDIR" ]; then
    run_pg "$PG_BIN/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PGDIR"
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ "$BACKEND" = postgres ]; then
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  if [ -z "$PG_BIN" ]; then
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
    PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  fi
  PGPORT="$(free_port)"
  PGDIR="$(mktemp -d /tmp/bench-pool-pg.XXXXXX)"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$PGDIR"; fi
  echo "== PostgreSQL cluster on 127.0.0.1:$PGPORT"
  run_pg "$PG_BIN/initdb" -D "$PGDIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  run_pg "$PG_BIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w \
    -o "-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
  export DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/postgres"
else
  unset DATABASE_URL
fi

PORT="$(free_port)"
echo "== starting the service ($BACKEND) with a pool of $POOL_SIZE on 127.0.0.1:$PORT"
DEMO_POOL_SIZE="$POOL_SIZE" REGISTRY_BIND="127.0.0.1:$PORT" REGISTRY_JOBS=0 RUST_LOG=warn \
  "$BIN" --data-dir "$WORK/data" serve --demo >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 600); do
  if curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then cat "$WORK/server.log" >&2; exit 1; fi
  sleep 0.1
done
grep -E "^demo pool" "$WORK/server.log" || true

if [ "$BACKEND" = postgres ]; then
  # Settle the fresh cluster (statistics, autovacuum) so it does not compete with the run.
  run_pg "$PG_BIN/psql" -h "$PGDIR" -p "$PGPORT" -U postgres -qc "VACUUM ANALYZE" postgres >/dev/null
fi
SEARCH="http://127.0.0.1:$PORT/api/v1/pool?category=sports&per_page=20"
HEALTH="http://127.0.0.1:$PORT/healthz"
TOTAL="$(curl -fs "$SEARCH" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')"
BYTES="$(curl -fs "$SEARCH" | wc -c)"
echo "   search matches $TOTAL entries; 20 per page, $BYTES bytes per response"

# Runs wrk on $1; prints "req/s p99_ms".
measure() {
  wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "$1" >/dev/null 2>&1 # warm-up
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$1" >"$WORK/wrk.out"
  python3 - "$WORK/wrk.out" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
value, unit = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", text, re.M).groups()
ms = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
if errors:
    sys.exit(f"wrk saw {errors.group(1)} error responses:\n{text}")
print(f"{rps:.0f} {ms:.2f}")
PY
}

echo "== wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency"
read -r H_RPS H_P99 < <(measure "$HEALTH")
read -r S_RPS S_P99 < <(measure "$SEARCH")
RATIO="$(python3 -c "print(f'{$S_RPS / $H_RPS:.2f}')")"
TARGET="$([ "$BACKEND" = sqlite ] && echo 0.5 || echo 0.3)"
printf '\n%-10s %-46s %10s %10s\n' backend endpoint "req/s" "p99 ms"
printf '%-10s %-46s %10s %10s\n' "$BACKEND" "/healthz" "$H_RPS" "$H_P99"
printf '%-10s %-46s %10s %10s\n' "$BACKEND" "/api/v1/pool?category=sports&per_page=20" "$S_RPS" "$S_P99"
printf 'ratio search/healthz = %s (target >= %s, p99 <= 10 ms); %s cores, load average before: %s\n' \
  "$RATIO" "$TARGET" "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
