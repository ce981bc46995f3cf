#!/usr/bin/env bash
# PDF pre-screen cost (issue 17): the service's text extraction as an upload runs it
# (`PdfExtractor::extract`: pdftotext started through prlimit, the extraction child only for what
# it leaves) against poppler's `pdftotext` alone started from the same process, whole-process
# wall time over the corpus files an applicant may upload (fixtures/pdf: the producers' files,
# the CID-font, Ghostscript, damaged-page, scanned and rebuilt-xref ones; not the hostile ones),
# each run REPS times, alternating, through the integration harness. Prints per file and in total
# the median times and the ratio (goal: ≤ 1.5×).
#
#   scripts/bench/pdf-prescreen.sh            (REPS=30; PROFILE=bench-harness, `dev` for a quick look)
#
# `bench-harness` is the release profile without the whole-program link (Cargo.toml): the
# shipped binary's speed, without a fat-LTO link of the test harness.
# BENCH_PDF_CHILD=target/bench-harness/provider-registry with PROFILE=dev times the optimised
# child from the debug harness (the parent's share is starting processes and reading pipes).
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v pdftotext >/dev/null; then
  echo "pdftotext is not installed (apt-get install poppler-utils poppler-data)" >&2
  exit 1
fi
BENCH_REPS="${REPS:-30}" BENCH_PDF_CHILD="${BENCH_PDF_CHILD:-}" cargo nextest run --cargo-profile "${PROFILE:-bench-harness}" --test it \
  --run-ignored only --no-capture pdf_extraction::bench_pdf_prescreen 2>&1 |
  grep -E '^BENCH|FAIL|panicked'
