"""Prints "req/s p99_ms" from the output of `wrk --latency` (argv[1]); exits non-zero when wrk
saw error responses. (Shared by the benchmark scripts under scripts/bench/.)"""

import re
import sys

text = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
value, unit = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", text, re.M).groups()
ms = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
if errors:
    sys.exit(f"wrk saw {errors.group(1)} error responses:\n{text}")
print(f"{rps:.0f} {ms:.2f}")
