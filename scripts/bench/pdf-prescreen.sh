#!/usr/bin/env bash
# PDF pre-screen cost (issue 17): the service's text extraction child
# (`provider-registry extract-pdf-text`, pdftotext first) against poppler's `pdftotext` alone,
# whole-process wall time over the corpus files an applicant may upload (fixtures/pdf: the
# producers' files, the CID-font, Ghostscript, damaged-page, scanned and rebuilt-xref ones; not
# the hostile ones), each run REPS times, alternating. Prints per file and in total the
# median times and the ratio (goal: ≤ 1.5×).
#
#   scripts/bench/pdf-prescreen.sh            (BIN=target/release/provider-registry, REPS=30)
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN="${BIN:-${CARGO_TARGET_DIR:-target}/release/provider-registry}"
if [ ! -x "$BIN" ]; then cargo build --release --quiet; fi
PDFTOTEXT="$(command -v pdftotext || true)"
if [ -z "$PDFTOTEXT" ]; then echo "pdftotext is not installed (apt-get install poppler-utils poppler-data)" >&2; exit 1; fi
BIN="$BIN" PDFTOTEXT="$PDFTOTEXT" REPS="${REPS:-30}" python3 - <<'PY'
import os, statistics, subprocess, time
BIN, PDFTOTEXT, REPS = os.environ["BIN"], os.environ["PDFTOTEXT"], int(os.environ["REPS"])
FILES = ["libreoffice.pdf", "chromium.pdf", "ghostscript.pdf", "stsong-cid.pdf",
         "corrupted-page.pdf", "scanned.pdf", "broken-xref.pdf", "encrypted-empty-user-password.pdf"]
child_env = {"PDF_EXTRACT_PDFTOTEXT": PDFTOTEXT}
def run(cmd, env=None):
    t = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - t
total_ours, total_ref = 0.0, 0.0
print(f"{'file':36} {'extract-pdf-text':>16} {'pdftotext':>10} {'ratio':>6}")
for name in FILES:
    path = os.path.join("fixtures/pdf", name)
    ours, ref = [], []
    for _ in range(REPS):
        ours.append(run([BIN, "extract-pdf-text", path], child_env))
        ref.append(run([PDFTOTEXT, "-enc", "UTF-8", "-q", path, "-"], {}))
    o, r = statistics.median(ours), statistics.median(ref)
    total_ours += o; total_ref += r
    print(f"{name:36} {o*1000:13.1f} ms {r*1000:7.1f} ms {o/r:5.2f}x")
print(f"{'TOTAL (sum of medians)':36} {total_ours*1000:13.1f} ms {total_ref*1000:7.1f} ms {total_ours/total_ref:5.2f}x")
PY
