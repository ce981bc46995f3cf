#!/usr/bin/env bash
# Pool search benchmark (issue 17): starts the release build on loopback with a pool of 2,000
# entries (DEMO_POOL_SIZE) and loads, with wrk (64 connections), in one run:
#   - `/healthz`, the baseline;
#   - a mix of 500 distinct realistic public searches (a wrk Lua script cycling through them:
#     name fragments taken from the pool's own names, districts, categories and items, pages
#     1–3, alone and combined), built from the pool's JSON export;
#   - the repeated `/api/v1/pool?category=sports&per_page=20`;
#   - the same search as a reviewer (staff: `flagged` marks, bearer token);
#   - the CSV export of every entry (`/api/v1/pool/export.csv`).
# It prints req/s, p99 and the ratio to `/healthz` of each, and the targets (mix >= 0.3x with
# p99 <= 20 ms, repeated >= 0.5x). Not a timed test; not run by CI.
#
#   scripts/bench/pool-search.sh [sqlite|postgres]        (default sqlite)
#
# Environment: BENCH_DURATION (default 10s), BENCH_CONNECTIONS (64), BENCH_THREADS (2),
# DEMO_POOL_SIZE (2000), BENCH_PROFILE (release; `debug` for a quick look), BENCH_PORT and
# BENCH_PG_PORT (default: free ports), CARGO_TARGET_DIR.
# PostgreSQL runs as a throwaway cluster of its own (initdb/pg_ctl from
# /usr/lib/postgresql/*/bin, as the `postgres` user when root), removed afterwards, like the
# data directory.
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "$0")" && pwd)"
cd "$BENCH_DIR/../.."
# shellcheck source=scripts/bench/common.sh
. "$BENCH_DIR/common.sh"

BACKEND="${1:-sqlite}"
case "$BACKEND" in sqlite | postgres) ;; *) echo "usage: $0 [sqlite|postgres]" >&2; exit 2 ;; esac
DURATION="${BENCH_DURATION:-10s}"
CONNECTIONS="${BENCH_CONNECTIONS:-64}"
THREADS="${BENCH_THREADS:-2}"
POOL_SIZE="${DEMO_POOL_SIZE:-2000}"

bench_start bench-pool-search
if [ "$BACKEND" = postgres ]; then start_pg_cluster; else unset DATABASE_URL; fi

PORT="${BENCH_PORT:-$(free_port)}"
BASE="http://127.0.0.1:$PORT"
echo "== starting the service ($BACKEND) with a pool of $POOL_SIZE at $BASE"
DEMO_POOL_SIZE="$POOL_SIZE" REGISTRY_JOBS=0 RUST_LOG=warn,provider_registry::pool::read_model=debug \
  "$BIN" --data-dir "$WORK/data" serve --demo --bind "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
wait_for_service "$BASE" "$SERVER_PID" "$WORK/server.log"
if [ "$BACKEND" = postgres ]; then
  # Settle the fresh cluster (statistics, autovacuum) so it does not compete with the run.
  run_pg "$PG_BIN/psql" -h "$PGDIR" -p "$PG_PORT" -U postgres -qc "VACUUM ANALYZE" postgres >/dev/null
fi

# The 500 searches, from the pool itself (names, districts, items), as a wrk Lua script.
curl -fs "$BASE/api/v1/pool/export.json" -o "$WORK/pool.json"
python3 - "$WORK/pool.json" "$WORK/mix.lua" <<'PY'
import json, random, sys, urllib.parse
pool = json.load(open(sys.argv[1]))
entries = pool["items"]
rng = random.Random(17)
districts = sorted({e["district"] for e in entries if e.get("district")})
items = sorted({i["code"] for e in entries for i in e["items"]})
categories = sorted({c.split(".")[0] for c in items})
def fragment():
    name = rng.choice(entries)["name"]
    size = rng.choice([2, 2, 3, 4])
    start = rng.randrange(0, max(1, len(name) - size))
    return name[start:start + size]
paths = set()
while len(paths) < 500:
    q = {}
    shape = rng.random()
    if shape < 0.35:
        q["q"] = fragment()
    elif shape < 0.55:
        q["category"] = rng.choice(categories + items)
        q["district"] = rng.choice(districts)
    elif shape < 0.75:
        q["q"] = fragment()
        q["district"] = rng.choice(districts)
    elif shape < 0.9:
        q["category"] = rng.choice(categories + items)
    else:
        q["category"] = rng.choice(categories)
        q["q"] = fragment()
    q["page"] = rng.choice([1, 1, 1, 2, 3])
    paths.add("/api/v1/pool?" + urllib.parse.urlencode(q))
paths = sorted(paths)
rng.shuffle(paths)
with open(sys.argv[2], "w") as out:
    out.write("local paths = {\n")
    for p in paths:
        out.write('  "%s",\n' % p)
    out.write("}\n")
    out.write("local i = 0\n")
    out.write("request = function()\n  i = i % #paths + 1\n")
    out.write("  return wrk.format('GET', paths[i])\nend\n")
print(f"   {len(paths)} distinct searches over {len(entries)} entries, "
      f"{len(districts)} districts, {len(items)} items")
PY

TOKEN="$(curl -fs -H 'Content-Type: application/json' \
  -d '{"email":"reviewer@demo.local","password":"demo-password-2026"}' \
  "$BASE/api/v1/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"
CSV_ROWS="$(curl -fs "$BASE/api/v1/pool/export.csv" | wc -l)"
echo "   CSV export: $CSV_ROWS lines (header included)"

rss() { awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status"; }
RSS_BEFORE="$(rss)"
echo "== wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency ($BACKEND)"
printf '\n%-52s %10s %10s %8s  %s\n' what "req/s" "p99 ms" ratio target
read -r H_RPS H_P99 < <(measure "$BASE/healthz")
printf '%-52s %10s %10s %8s\n' "/healthz" "$H_RPS" "$H_P99" "1.00"
row() { # label rps p99 target
  printf '%-52s %10s %10s %8s  %s\n' "$1" "$2" "$3" "$(python3 -c "print(f'{$2 / $H_RPS:.2f}')")" "$4"
}
read -r RPS P99 < <(measure "$BASE/api/v1/pool" -s "$WORK/mix.lua")
row "mix of 500 distinct searches" "$RPS" "$P99" ">= 0.30, p99 <= 20 ms"
read -r RPS P99 < <(measure "$BASE/api/v1/pool?category=sports&per_page=20")
row "repeated /api/v1/pool?category=sports&per_page=20" "$RPS" "$P99" ">= 0.50"
read -r RPS P99 < <(measure "$BASE/api/v1/pool?category=sports&per_page=20" -H "Authorization: Bearer $TOKEN")
row "the same as a reviewer (staff)" "$RPS" "$P99" "measured"
read -r RPS P99 < <(measure "$BASE/api/v1/pool/export.csv")
row "CSV export of every entry" "$RPS" "$P99" "measured"
printf '%s cores, load average: %s; server RSS %s kB before the load, %s kB after\n' "$(nproc)" \
  "$(cut -d' ' -f1-3 /proc/loadavg)" "$RSS_BEFORE" "$(rss)"
echo "last read-model rebuild: $(grep -a 'pool read model rebuilt' "$WORK/server.log" | tail -n 1 | sed 's/\x1b\[[0-9;]*m//g')"
