#!/usr/bin/env bash
# Upload and download throughput and the server's peak RSS for one 20 MB PDF (README,
# Measurements):
#
#   scripts/bench-documents.sh [BINARY] [sqlite|postgres://…]
#
# BINARY defaults to the debug build; the database to a fresh SQLite file. The server starts
# on a free port with a fresh data directory; the PDF is one page with a 20 MB incompressible
# image stream. Prints the upload time, 3 downloads' times, and the server's VmHWM (peak RSS)
# after them.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-target/debug/provider-registry}"
DB="${2:-sqlite}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/bench-documents.XXXXXX")"
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
(
  if [ "$DB" = sqlite ]; then unset DATABASE_URL; else export DATABASE_URL="$DB"; fi
  export RUST_LOG=warn REGISTRY_JOBS=0
  unset JWT_SECRET SMTP_URL
  exec "$BIN" --data-dir "$WORK/data" serve --bind "127.0.0.1:$PORT"
) >"$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.2; done

python3 - "http://127.0.0.1:$PORT" "$PID" <<'EOF'
import json, os, sys, time, urllib.request, uuid

base, pid = sys.argv[1], sys.argv[2]


def call(method, path, body=None, token=None, raw=None, ctype=None):
    headers = {}
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    if raw is not None:
        data, headers["Content-Type"] = raw, ctype
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=300) as res:
        return res.read()


def rss():
    with open(f"/proc/{pid}/status") as f:
        fields = dict(line.split(":", 1) for line in f)
    return fields["VmHWM"].strip(), fields["VmRSS"].strip()


# A one-page PDF whose image XObject holds 20 MB of random (incompressible) bytes.
payload = os.urandom(20 * 1000 * 1000)
side = 2582  # 2582 × 2582 × 3 ≥ 20 MB
objects = [
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im1 5 0 R >> >> /Contents 4 0 R >>",
]
content = b"q 595 0 0 842 0 0 cm /Im1 Do Q"
pdf = bytearray(b"%PDF-1.4\n")
offsets = []
for i, body in enumerate(objects, 1):
    offsets.append(len(pdf))
    pdf += b"%d 0 obj\n" % i + body + b"\nendobj\n"
offsets.append(len(pdf))
pdf += b"4 0 obj\n<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream\nendobj\n"
offsets.append(len(pdf))
pdf += (b"5 0 obj\n<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB "
        b"/BitsPerComponent 8 /Length %d >>\nstream\n" % (side, side, len(payload)))
pdf += payload + b"\nendstream\nendobj\n"
xref = len(pdf)
pdf += b"xref\n0 6\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
pdf += b"trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
pdf = bytes(pdf)
if len(pdf) > 20 * 1024 * 1024:
    sys.exit(f"the PDF is {len(pdf)} bytes, over the 20 MiB cap")

call("POST", "/api/v1/auth/register", {
    "email": "bench@example.cn", "password": "bench-password-2026", "display_name": "王经理",
    "institution_name": "南宁市性能测试中心", "uscc": "52450100MJ5000001Y",
    "entity_type": "private_non_enterprise_unit"})
token = json.loads(call("POST", "/api/v1/auth/login",
                        {"email": "bench@example.cn", "password": "bench-password-2026"}))["access_token"]
print(f"server at rest: VmHWM {rss()[0]}")
boundary = uuid.uuid4().hex
form = (f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nother\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.pdf"\r\n'
        f"Content-Type: application/pdf\r\n\r\n").encode() + pdf + f"\r\n--{boundary}--\r\n".encode()
mb = len(pdf) / 1e6
t = time.monotonic()
doc = json.loads(call("POST", "/api/v1/documents", token=token, raw=form,
                      ctype=f"multipart/form-data; boundary={boundary}"))
up = time.monotonic() - t
print(f"upload {mb:.1f} MB: {up:.2f} s ({mb / up:.1f} MB/s, PDF text extraction included: {doc.get('text_status')}); VmHWM {rss()[0]}")
for i in range(3):
    t = time.monotonic()
    got = call("GET", f"/api/v1/documents/{doc['id']}/content", token=token)
    down = time.monotonic() - t
    assert got == pdf, "the download differs"
    print(f"download {i + 1}: {down:.2f} s ({mb / down:.1f} MB/s); VmHWM {rss()[0]}, VmRSS {rss()[1]}")
EOF
