#!/usr/bin/env bash
# Closing a large notice (issue 17): seeds N approved applications (default 10,000), publishes
# them in one notice, moves the clock past its window and runs the closing job while three
# clients keep writing (profile updates), through the integration harness in the
# `bench-harness` profile (release without the whole-program link: Cargo.toml). Prints the job time, admissions, admission e-mails and the other writes' p50/p99/max.
#
#   scripts/bench/notice-closing.sh [sqlite|postgres]     (default sqlite)
#
# Environment: BENCH_NOTICE_SIZE (10000); PROFILE (bench-harness; `release` for the shipped
# build, whose fat-LTO harness takes about 12 min to build; `dev` for a quick look).
# PostgreSQL runs as a throwaway cluster of its own, removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."
BACKEND="${1:-sqlite}"
PROFILE="${PROFILE:-bench-harness}"
PGDIR=""
PG_BIN=""
run_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  if [ -n "$PGDIR" ]; then
    run_pg "$PG_BIN/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PGDIR"
  fi
}
trap cleanup EXIT
if [ "$BACKEND" = postgres ]; then
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  PGPORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
  PGDIR="$(mktemp -d /tmp/bench-closing-pg.XXXXXX)"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$PGDIR"; fi
  run_pg "$PG_BIN/initdb" -D "$PGDIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  run_pg "$PG_BIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w \
    -o "-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
  export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$PGPORT/postgres"
else
  unset TEST_DATABASE_URL
fi
cargo nextest run --cargo-profile "$PROFILE" --test it --run-ignored only \
  --no-capture notices::bench_closing_a_large_notice 2>&1 | grep -E '^BENCH|FAIL|panicked'
