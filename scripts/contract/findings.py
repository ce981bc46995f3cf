"""Summarise Schemathesis NDJSON event streams into one categorised list of findings.

    python findings.py OUT.md PASS=events.ndjson [PASS=events.ndjson ...]

Each argument names a pass (`sqlite/public`, `postgres/admin`, ...) and the NDJSON report of
its `st run`. Every failed check of every test case is grouped by category (server errors,
response schema violations, undocumented status codes, content-type mismatches, other checks)
and then by operation, status and the failure's own words, so one finding is listed once with
the passes that hit it and the shortest request that shows it. Errors that stopped an
operation from being tested (a schema Schemathesis cannot generate data for, a network
error) are listed as well. Writes the list as Markdown to OUT.md, prints it, and exits 1 when
there is any finding, 0 when there is none.
"""

from __future__ import annotations

import base64
import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

CATEGORIES = {
    "not_a_server_error": "Server errors (5xx)",
    "response_schema_conformance": "Response schema violations",
    "status_code_conformance": "Undocumented status codes",
    "content_type_conformance": "Content-type mismatches",
}
OTHER = "Other checks"
# Python's own failures inside Schemathesis (seen: "SystemError: AST constructor recursion
# depth mismatch" while generating one case), not the service's or the document's: listed,
# not counted.
TOOL_ERRORS = {"SystemError", "RecursionError", "MemoryError"}
ERRORS = "Operations Schemathesis could not test"
BODY_LIMIT = 400


@dataclass
class Finding:
    category: str
    operation: str
    status: int | None
    title: str
    detail: str
    passes: set[str] = field(default_factory=set)
    count: int = 0
    example: str = ""


def request_text(request: dict) -> str:
    """The request as one readable line: method, URI, content type and (cut) body."""
    line = f"{request.get('method', '?')} {request.get('uri', '?')}"
    headers = request.get("headers") or {}
    content_type = next(
        (v[0] for k, v in headers.items() if k.lower() == "content-type" and v), None
    )
    body = request.get("body")
    if body is None:
        return line
    raw = base64.b64decode(body["$base64"]) if isinstance(body, dict) and "$base64" in body else str(body).encode()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = f"<{len(raw)} bytes, not UTF-8>"
    text = text.encode("unicode_escape").decode("ascii") if any(ord(c) < 32 for c in text) else text
    if len(text) > BODY_LIMIT:
        text = text[:BODY_LIMIT] + f"… ({len(raw)} bytes)"
    return f"{line}  [{content_type or 'no content type'}]  {text}"


def detail_of(check: str, failure: dict) -> str:
    """The part of a failure's message that tells two findings of one operation apart."""
    message = failure.get("message", "")
    if check == "status_code_conformance":
        return message.replace("\n", "; ")
    if check == "response_schema_conformance":
        # The validator's message (first line) and where in the document the schema is.
        lines = [line.strip() for line in message.splitlines() if line.strip()]
        where = next((line for line in lines if line.startswith("Schema at ")), "")
        first = lines[0] if lines else ""
        # "<the value> is not of type ..." differs per response: keep what the schema says.
        if " is not " in first and not first.startswith('"'):
            first = "value is not " + first.split(" is not ", 1)[1]
        elif " is not " in first and first.count('"') > 2:
            first = "value is not " + first.rsplit(" is not ", 1)[1]
        return f"{first[:200]} ({where.removeprefix('Schema at ').rstrip(':')})"
    return message.replace("\n", "; ")[:300]


def read_pass(name: str, path: Path, findings: dict, errors: dict, tool_errors: dict) -> None:
    if not path.exists():
        errors[("(run)", f"no report from pass {name}")].add(name)
        return
    finished = False
    for line in path.read_text(encoding="utf-8").splitlines():
        event = json.loads(line)
        finished = finished or "EngineFinished" in event
        if "NonFatalError" in event:
            value = event["NonFatalError"].get("value", {})
            label = event["NonFatalError"].get("label", "?")
            message = value.get("message", "").splitlines()
            text = f"{value.get('type', 'Error')}: {message[-1] if message else ''}"[:300]
            kind = tool_errors if value.get("type") in TOOL_ERRORS else errors
            kind[(label, text)].add(name)
            continue
        if "ScenarioFinished" not in event:
            continue
        recorder = event["ScenarioFinished"].get("recorder", {})
        interactions = recorder.get("interactions", {})
        for case_id, checks in (recorder.get("checks") or {}).items():
            for check in checks:
                if check.get("status") != "failure":
                    continue
                failure = check.get("failure_info", {}).get("failure", {})
                interaction = interactions.get(case_id) or {}
                response = interaction.get("response") or {}
                status = response.get("status_code")
                operation = failure.get("operation") or recorder.get("label", "?")
                category = CATEGORIES.get(check["name"], OTHER)
                title = failure.get("title", check["name"])
                if category == OTHER:
                    title = f"{check['name']}: {title}"
                key = (category, operation, status, title, detail_of(check["name"], failure))
                found = findings.get(key)
                if found is None:
                    found = findings[key] = Finding(category, operation, status, title, key[4])
                found.passes.add(name)
                found.count += 1
                example = request_text(interaction.get("request") or {})
                if not found.example or len(example) < len(found.example):
                    found.example = example
    if not finished:
        errors[("(run)", f"pass {name} did not finish (stopped by its time limit?)")].add(name)


def render(findings: dict, errors: dict, tool_errors: dict) -> str:
    out = []
    by_category = defaultdict(list)
    for finding in findings.values():
        by_category[finding.category].append(finding)
    total = len(findings) + len(errors)
    out.append(f"# Contract findings: {len(findings)} failing checks, {len(errors)} errors\n")
    undocumented = defaultdict(set)
    for f in by_category.get(CATEGORIES["status_code_conformance"], []):
        undocumented[f.status].add(f.operation)
    if undocumented:
        out.append("Undocumented status codes at a glance:\n")
        for status, operations in sorted(undocumented.items(), key=lambda kv: kv[0] or 0):
            out.append(f"- {status} on {len(operations)} operations: {', '.join(sorted(operations))}")
        out.append("")
    for category in [*CATEGORIES.values(), OTHER]:
        items = sorted(by_category.get(category, []), key=lambda f: (f.operation, f.status or 0, f.detail))
        out.append(f"## {category}: {len(items)}\n")
        for f in items:
            out.append(
                f"- `{f.operation}` → {f.status} — {f.title}: {f.detail}\n"
                f"  passes: {', '.join(sorted(f.passes))} ({f.count} cases)\n"
                f"  e.g. `{f.example}`"
            )
        out.append("")
    out.append(f"## {ERRORS}: {len(errors)}\n")
    for (label, message), passes in sorted(errors.items()):
        out.append(f"- `{label}` — {message}\n  passes: {', '.join(sorted(passes))}")
    out.append("")
    if tool_errors:
        out.append(f"## Errors inside Schemathesis (not counted): {len(tool_errors)}\n")
        for (label, message), passes in sorted(tool_errors.items()):
            out.append(f"- `{label}` — {message}\n  passes: {', '.join(sorted(passes))}")
        out.append("")
    if total == 0:
        out = ["# Contract findings: none\n"]
    return "\n".join(out)


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    findings: dict = {}
    errors: dict = defaultdict(set)
    tool_errors: dict = defaultdict(set)
    for arg in argv[2:]:
        name, _, path = arg.partition("=")
        read_pass(name, Path(path), findings, errors, tool_errors)
    text = render(findings, errors, tool_errors)
    Path(argv[1]).write_text(text, encoding="utf-8")
    print(text)
    return 1 if findings or errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
