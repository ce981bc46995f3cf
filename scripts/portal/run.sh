#!/usr/bin/env bash
# The public portal in a real browser: Debian's Chromium, headless, driven through
# chromedriver (WebDriver) by Selenium, against a fresh `serve --demo` on SQLite with the
# settable clock (the late objection moves time). Every page visited is checked with axe-core
# (no serious or critical violation) and photographed at 375 and 1280 px into target/portal/;
# then an institution builds its file and applies through its workspace (workspace_institution.py),
# and the reviewer works through the queue, dossier, decisions, notice, objection, exit case and
# blacklist import (workspace_reviewer.py), then the admin keeps accounts, rounds, the calendar
# (preview, then load), jobs and the audit check, and the reviewer opens an exit case from a
# dossier and imports a blacklist file (workspace_admin.py), and last the whole mission through
# pages only (mission.py: registration to the ban on /bans, a school's contract in between), on
# the same server.
#
#   scripts/portal/run.sh
#
# Installs what is missing: `chromium` and `chromium-driver` (apt-get), Selenium (pinned in
# requirements.txt, a virtualenv under the temp dir reused while the pins are unchanged), and
# axe-core (AXE_VERSION, from the npm registry into a temporary directory, injected into each
# page with execute_script — the pages' CSP does not apply to WebDriver scripts). Exits 1 on
# any failed check.
set -euo pipefail
cd "$(dirname "$0")/../.."
HERE=scripts/portal
AXE_VERSION=4.10.3
STARTED=$SECONDS
log() { printf '\n== [%3ds] %s\n' "$((SECONDS - STARTED))" "$*"; }

OUT="${CARGO_TARGET_DIR:-target}/portal"
rm -rf "$OUT"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/portal.XXXXXX")"
SERVER=""
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  log "installing chromium and chromium-driver"
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    chromium chromium-driver
fi
if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  as_root apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv
fi
VENV="${PORTAL_VENV:-${TMPDIR:-/tmp}/provider-registry-portal-venv}"
STAMP="$(cat "$HERE/requirements.txt" <(python3 --version) | sha256sum | cut -c1-16)"
if [ "$(cat "$VENV/.complete" 2>/dev/null)" != "$STAMP" ]; then
  log "creating the virtualenv in $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
  echo "$STAMP" >"$VENV/.complete"
fi
log "axe-core $AXE_VERSION from the npm registry"
(cd "$WORK" && npm install --silent --no-audit --no-fund --prefix "$WORK/npm" "axe-core@$AXE_VERSION" >/dev/null)
AXE_JS="$WORK/npm/node_modules/axe-core/axe.min.js"
test -s "$AXE_JS"

log "cargo build (debug)"
cargo build --quiet --bin provider-registry
BIN="$(pwd)/${CARGO_TARGET_DIR:-target}/debug/provider-registry"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
log "serve --demo on SQLite at $BASE"
(
  unset DATABASE_URL SMTP_URL JWT_SECRET
  export REGISTRY_TEST_CLOCK=1 REGISTRY_JOBS=1 JOB_POLL_INTERVAL_MS=100 DEMO_POOL_SIZE=60 \
    RUST_LOG=warn REGISTRY_ENV=development
  exec "$BIN" --data-dir "$WORK/data" serve --bind "127.0.0.1:$PORT" --demo
) >"$OUT/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 300); do
  if curl -fs "$BASE/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$SERVER" 2>/dev/null; then cat "$OUT/server.log" >&2; exit 1; fi
  sleep 0.2
done

log "the visitor's and the reviewer's steps in Chromium"
"$VENV/bin/python" "$HERE/browser.py" "$BASE" "$OUT" "$AXE_JS" "$(pwd)/fixtures/pdf/chromium.pdf"
log "the institution's workspace in Chromium"
"$VENV/bin/python" "$HERE/workspace_institution.py" "$BASE" "$OUT" "$AXE_JS" "$(pwd)/fixtures/pdf/chromium.pdf"
log "the reviewer's workspace in Chromium (after the visitor's steps, on the same demo)"
"$VENV/bin/python" "$HERE/workspace_reviewer.py" "$BASE" "$OUT" "$AXE_JS"
log "the admin's workspace and the reviewer's exit case and blacklist file in Chromium"
"$VENV/bin/python" "$HERE/workspace_admin.py" "$BASE" "$OUT" "$AXE_JS" "$(pwd)/fixtures"
log "the whole mission through pages only in Chromium"
"$VENV/bin/python" "$HERE/mission.py" "$BASE" "$OUT" "$AXE_JS" "$(pwd)/fixtures/pdf/chromium.pdf"
log "done: $(ls "$OUT"/*.png | wc -l) screenshots in $OUT"
