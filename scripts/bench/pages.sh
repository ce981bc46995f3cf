#!/usr/bin/env bash
# Portal pages benchmark (issue 15): starts the release build on loopback (SQLite, a pool of
# 2,000 entries, the demo's open notice), loads `/healthz`, the JSON search
# `/api/v1/pool?category=sports&per_page=20`, the page `/pool?category=sports` and the page
# `/notices/1` (and the JSON notice `/api/v1/notices/1`) with wrk, and prints req/s, p99 and
# each one's ratio to `/healthz`, with the
# pages' sizes (gzip, as a browser fetches them). Not run by CI.
#
#   scripts/bench/pages.sh
#
# Environment: BENCH_DURATION (default 10s), BENCH_CONNECTIONS (64), BENCH_THREADS (2),
# DEMO_POOL_SIZE (2000), BENCH_PROFILE (release; `debug` for a quick look without the release
# build), BENCH_PORT (default: a free port), CARGO_TARGET_DIR (as cargo).
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
cd "$BENCH_DIR/../.."
# shellcheck source=scripts/bench/common.sh
. "$BENCH_DIR/common.sh"

DURATION="${BENCH_DURATION:-10s}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
THREADS="${BENCH_THREADS:-2}"
POOL_SIZE="${DEMO_POOL_SIZE:-2000}"

bench_start bench-pages

PORT="${BENCH_PORT:-$(free_port)}"
BASE="http://127.0.0.1:$PORT"
echo "== starting the service (SQLite) with a pool of $POOL_SIZE at $BASE"
(
  unset DATABASE_URL
  export DEMO_POOL_SIZE="$POOL_SIZE" REGISTRY_JOBS=0 RUST_LOG=warn
  exec "$BIN" --data-dir "$WORK/data" serve --demo --bind "127.0.0.1:$PORT"
) >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
wait_for_service "$BASE" "$SERVER_PID" "$WORK/server.log"

echo "== wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency"
printf '\n%-42s %10s %10s %8s %14s\n' endpoint "req/s" "p99 ms" ratio "bytes (gzip)"
read -r H_RPS H_P99 < <(measure "$BASE/healthz")
printf '%-42s %10s %10s %8s\n' "/healthz" "$H_RPS" "$H_P99" "1.00"
for path in "/api/v1/pool?category=sports&per_page=20" "/pool?category=sports" "/api/v1/notices/1" "/notices/1"; do
  size="$(curl -fs -H 'Accept-Encoding: gzip' "$BASE$path" | wc -c)"
  read -r RPS P99 < <(measure "$BASE$path")
  printf '%-42s %10s %10s %8s %14s\n' "$path" "$RPS" "$P99" \
    "$(python3 -c "print(f'{$RPS / $H_RPS:.2f}')")" "$size"
done
printf '%s cores, load average: %s\n' "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
