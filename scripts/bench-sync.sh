#!/usr/bin/env bash
# The cost of SQLite `synchronous=FULL` (issue 14): 2,000 institution-profile updates through
# HTTP (one keep-alive connection, one after another, so each waits for its commit), once with
# SQLITE_SYNCHRONOUS=normal and once with full, each on a fresh data directory; prints the
# time and the updates per second of both.
#
#   scripts/bench-sync.sh [COUNT]        (default 2000)
#
# Environment: BIN (default target/debug/provider-registry, built with `cargo build`),
# BENCH_PORT (default 18310). The data directories are removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT="${1:-2000}"
BIN="${BIN:-target/debug/provider-registry}"
PORT="${BENCH_PORT:-18310}"
[ -x "$BIN" ] || cargo build --quiet
WORK="$(mktemp -d /tmp/bench-sync.XXXXXX)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

for mode in normal full; do
  SQLITE_SYNCHRONOUS="$mode" REGISTRY_JOBS=0 RUST_LOG=warn REGISTRY_HTTP_WORKERS=2 \
    "$BIN" --data-dir "$WORK/$mode" serve --bind "127.0.0.1:$PORT" 2>"$WORK/$mode.log" &
  SERVER_PID=$!
  python3 - "$PORT" "$COUNT" "$mode" <<'PY'
import http.client, json, sys, time
port, count, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
for _ in range(100):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port); c.request("GET", "/healthz"); c.getresponse().read(); break
    except OSError:
        time.sleep(0.1)
def call(method, path, body, token=None):
    headers = {"content-type": "application/json"}
    if token: headers["authorization"] = "Bearer " + token
    c.request(method, path, json.dumps(body), headers)
    r = c.getresponse(); data = r.read()
    if r.status >= 300: sys.exit(f"{method} {path}: {r.status} {data[:300]!r}")
    return json.loads(data) if data else None
password = "bench-password-2026"
call("POST", "/api/v1/auth/register", {"email": "bench@example.cn", "password": password,
     "display_name": "联系人", "institution_name": "测速培训中心", "uscc": "91450103MA5L123454",
     "entity_type": "enterprise"})
token = call("POST", "/api/v1/auth/login", {"email": "bench@example.cn", "password": password})["access_token"]
body = {"registration_kind": "business_licence", "registration_number": "91450103MA5L123454",
        "issuing_authority": "南宁市青秀区市场监督管理局", "authority_level": "county",
        "registered_address": "南宁市青秀区民族大道1号", "district": "青秀区", "legal_rep_name": "张三",
        "legal_rep_id": {"kind": "resident_id", "number": "450103198503120026"},
        "contact_person": "王经理", "contact_mobile": "13800771234"}
start = time.monotonic()
for i in range(count):
    body["contact_person"] = f"王经理{i % 10}"
    call("PUT", "/api/v1/institutions/me", body, token)
elapsed = time.monotonic() - start
print(f"synchronous={mode:6} {count} profile updates in {elapsed:.2f} s: {count / elapsed:.0f}/s, {1000 * elapsed / count:.2f} ms each")
PY
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
done
