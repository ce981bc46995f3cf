# Shared by the HTTP benchmarks under scripts/bench/ (sourced, not run): root commands, free
# ports, wrk, the service build, a throwaway PostgreSQL cluster, waiting for the service, and one
# wrk measurement. The sourcing script sets BENCH_DIR (this folder) and calls `bench_start`.

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
run_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# Installs wrk from the distribution when missing.
ensure_wrk() {
  if ! command -v wrk >/dev/null 2>&1; then
    echo "== installing wrk"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk
  fi
}

# Builds the service in BENCH_PROFILE (release by default; `debug` for a quick look) and sets
# BIN to the binary.
build_service() {
  local profile="${BENCH_PROFILE:-release}"
  echo "== cargo build ($profile)"
  if [ "$profile" = release ]; then
    cargo build --release --quiet --bin provider-registry
  else
    cargo build --quiet --bin provider-registry
  fi
  BIN="${CARGO_TARGET_DIR:-target}/$profile/provider-registry"
}

# Starts a throwaway PostgreSQL cluster (installed when missing) and exports DATABASE_URL; sets
# PG_BIN and PGDIR for stop_pg_cluster.
start_pg_cluster() {
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  if [ -z "$PG_BIN" ]; then
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql
    PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  fi
  local port
  port="${BENCH_PG_PORT:-$(free_port)}"
  PGDIR="$(mktemp -d "${TMPDIR:-/tmp}/bench-pg.XXXXXX")"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$PGDIR"; fi
  echo "== PostgreSQL cluster on 127.0.0.1:$port"
  run_pg "$PG_BIN/initdb" -D "$PGDIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  run_pg "$PG_BIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w \
    -o "-p $port -k $PGDIR -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
  PG_PORT="$port"
}

stop_pg_cluster() {
  if [ -n "${PGDIR:-}" ]; then
    run_pg "$PG_BIN/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PGDIR"
  fi
}

# Waits until $1/healthz answers while process $2 lives (its log: $3).
wait_for_service() {
  for _ in $(seq 1 1800); do
    if curl -fs "$1/healthz" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$2" 2>/dev/null; then cat "$3" >&2; exit 1; fi
    sleep 0.1
  done
  echo "the service did not answer at $1" >&2
  exit 1
}

# Runs wrk on URL $1 (then extra wrk arguments) after a 2-s warm-up; prints "req/s p99_ms".
measure() {
  local url="$1"
  shift
  wrk -t"$THREADS" -c"$CONNECTIONS" -d2s "$@" "$url" >/dev/null 2>&1
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$@" "$url" >"$WORK/wrk.out"
  python3 "$BENCH_DIR/wrk_summary.py" "$WORK/wrk.out"
}

# Installs wrk, builds the service, makes WORK (a temporary directory named after $1) and
# arranges for the server (SERVER_PID), the cluster and WORK to go when the script ends.
bench_start() {
  ensure_wrk
  build_service
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")"
  SERVER_PID=""
  trap bench_cleanup EXIT
}

bench_cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  stop_pg_cluster
  rm -rf "$WORK"
}
