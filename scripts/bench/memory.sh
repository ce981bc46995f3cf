#!/usr/bin/env bash
# Memory of the service (issue 17): starts the release build on loopback (SQLite, the demo with
# a pool of 2,000 entries, no job workers) and prints its resident memory (VmRSS) at three
# moments: idle (after start-up and a few requests), after 60 s of a mixed load (500 distinct
# pool searches — name fragments, districts, categories, pages — plus /healthz, wrk with 64
# connections), and after 2,000 institution registrations (each an argon2id hash of 19 MiB,
# 8 clients at once), each with its ratio to idle (goals: idle ≤ 30 MB, both others ≤ 2×).
#
#   scripts/bench/memory.sh [sqlite|postgres]        (default sqlite)
#
# Environment: BENCH_LOAD_SECONDS (60), BENCH_REGISTRATIONS (2000), BENCH_CONNECTIONS (64),
# DEMO_POOL_SIZE (2000), BENCH_PROFILE (release; `debug` for a quick look), BENCH_BIN (a binary
# built already: no build), BENCH_PORT (a free one), CARGO_TARGET_DIR.
# PostgreSQL runs as a throwaway cluster of its own, removed afterwards.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
cd "$HERE/../.."

BACKEND="${1:-sqlite}"
case "$BACKEND" in sqlite | postgres) ;; *) echo "usage: $0 [sqlite|postgres]" >&2; exit 2 ;; esac
LOAD_SECONDS="${BENCH_LOAD_SECONDS:-60}"
REGISTRATIONS="${BENCH_REGISTRATIONS:-2000}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
POOL_SIZE="${DEMO_POOL_SIZE:-2000}"
PROFILE="${BENCH_PROFILE:-release}"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
run_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
if ! command -v wrk >/dev/null 2>&1; then
  echo "== installing wrk"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk
fi

if [ -n "${BENCH_BIN:-}" ]; then
  BIN="$BENCH_BIN"
else
  echo "== cargo build ($PROFILE)"
  if [ "$PROFILE" = release ]; then
    cargo build --release --quiet --bin provider-registry
  else
    cargo build --quiet --bin provider-registry
  fi
  BIN="${CARGO_TARGET_DIR:-target}/$PROFILE/provider-registry"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-memory.XXXXXX")"
SERVER_PID=""
PGDIR=""
PG_BIN=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [ -n "$PGDIR" ]; then
    run_pg "$PG_BIN/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PGDIR"
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

DB_URL=""
if [ "$BACKEND" = postgres ]; then
  PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  PGPORT="$(free_port)"
  PGDIR="$(mktemp -d "${TMPDIR:-/tmp}/bench-memory-pg.XXXXXX")"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$PGDIR"; fi
  run_pg "$PG_BIN/initdb" -D "$PGDIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  run_pg "$PG_BIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w \
    -o "-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
  DB_URL="postgres://postgres@127.0.0.1:$PGPORT/postgres"
fi

PORT="${BENCH_PORT:-$(free_port)}"
BASE="http://127.0.0.1:$PORT"
echo "== starting the service ($BACKEND) with a pool of $POOL_SIZE at $BASE"
(
  if [ -n "$DB_URL" ]; then export DATABASE_URL="$DB_URL"; else unset DATABASE_URL; fi
  export DEMO_POOL_SIZE="$POOL_SIZE" REGISTRY_JOBS=0 RUST_LOG=warn
  exec "$BIN" --data-dir "$WORK/data" serve --demo --bind "127.0.0.1:$PORT"
) >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 1200); do
  if curl -fs "$BASE/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then cat "$WORK/server.log" >&2; exit 1; fi
  sleep 0.1
done

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status"; }
# Where it is: the binary's mapped pages (RssFile), the heap and stacks (RssAnon), threads.
rss_parts() {
  awk '/^(RssAnon|RssFile|RssShmem|Threads):/ {printf "%s %s ", $1, ($1 == "Threads:" ? $2 : int($2 / 1024) " MiB")}' \
    "/proc/$SERVER_PID/status"
  echo
}

# A few requests of each kind, so idle means "started and served", then a rest.
for _ in 1 2 3; do
  curl -fs "$BASE/healthz" >/dev/null
  curl -fs "$BASE/api/v1/pool?category=sports&per_page=20" >/dev/null
done
sleep 5
IDLE="$(rss_kib)"
echo "idle: $((IDLE / 1024)) MiB"
echo "  $(rss_parts)"

# 500 distinct searches, cycled by every connection from a different start.
cat >"$WORK/mix.lua" <<'LUA'
local names = {"南宁", "广西", "邕城", "绿城", "八桂", "五象", "青山", "相思湖", "凤岭", "金桥",
  "启航", "星辰", "飞扬", "乐动", "博雅", "翰墨", "童心", "未来", "智慧", "晨曦"}
local districts = {"青秀区", "兴宁区", "江南区", "西乡塘区", "良庆区", "邕宁区", "武鸣区", "高新区"}
local categories = {"sports", "arts", "practice"}
local function enc(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
local paths = {}
for i = 0, 499 do
  local parts = {"per_page=20", "page=" .. (1 + i % 5)}
  if i % 2 == 0 then table.insert(parts, "q=" .. enc(names[1 + math.floor(i / 5) % #names])) end
  if i % 3 ~= 2 then table.insert(parts, "district=" .. enc(districts[1 + math.floor(i / 7) % #districts])) end
  if i % 4 ~= 3 then table.insert(parts, "category=" .. categories[1 + math.floor(i / 3) % #categories]) end
  table.insert(parts, "n=" .. i) -- distinct even where the filters coincide
  paths[#paths + 1] = "/api/v1/pool?" .. table.concat(parts, "&")
end
paths[#paths + 1] = "/healthz"
local counter = 0
function setup(thread)
  thread:set("offset", counter * 97)
  counter = counter + 1
end
local i = 0
function request()
  i = i + 1
  return wrk.format("GET", paths[1 + (offset + i) % #paths])
end
LUA
echo "== mixed load: ${LOAD_SECONDS}s, $CONNECTIONS connections"
wrk -t2 -c"$CONNECTIONS" -d"${LOAD_SECONDS}s" --latency -s "$WORK/mix.lua" "$BASE" >"$WORK/wrk.out"
python3 "$HERE/wrk_summary.py" "$WORK/wrk.out" | awk '{print "  req/s " $1 ", p99 " $2 " ms"}'
sleep 2
AFTER_LOAD="$(rss_kib)"
echo "after the mixed load: $((AFTER_LOAD / 1024)) MiB"
echo "  $(rss_parts)"

echo "== $REGISTRATIONS registrations, 8 clients"
BASE="$BASE" N="$REGISTRATIONS" python3 - <<'PY'
import concurrent.futures, http.client, json, os, urllib.parse
base = urllib.parse.urlparse(os.environ["BASE"])
n = int(os.environ["N"])
CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
def uscc(body):
    total = sum(CHARS.index(c) * w for c, w in zip(body, WEIGHTS))
    return body + CHARS[(31 - total % 31) % 31]
def register(i):
    conn = http.client.HTTPConnection(base.hostname, base.port, timeout=120)
    body = json.dumps({
        "email": f"memory-bench-{i}@example.cn", "password": "correct horse battery staple",
        "display_name": "王经理", "institution_name": f"南宁市内存测试{i}号青少年课后服务中心",
        "uscc": uscc(f"52450100MJ7{i:06d}"), "entity_type": "private_non_enterprise_unit"})
    conn.request("POST", "/api/v1/auth/register", body, {"Content-Type": "application/json"})
    status = conn.getresponse().status
    conn.close()
    return status
with concurrent.futures.ThreadPoolExecutor(8) as pool:
    statuses = list(pool.map(register, range(n)))
created = statuses.count(201)
print(f"  {created} of {n} registered")
if created != n:
    raise SystemExit(f"unexpected statuses: { {s: statuses.count(s) for s in set(statuses)} }")
PY
sleep 2
AFTER_REG="$(rss_kib)"
echo "after the registrations: $((AFTER_REG / 1024)) MiB"
echo "  $(rss_parts)"

python3 - "$IDLE" "$AFTER_LOAD" "$AFTER_REG" "$BACKEND" <<'PY'
import sys
idle, load, reg = (int(v) / 1024 for v in sys.argv[1:4])
print(f"MEMORY backend={sys.argv[4]} idle={idle:.1f}MiB after_mixed_load={load:.1f}MiB ({load / idle:.2f}x) "
      f"after_registrations={reg:.1f}MiB ({reg / idle:.2f}x)")
PY
printf '%s cores, load average: %s\n' "$(nproc)" "$(cut -d' ' -f1-3 /proc/loadavg)"
