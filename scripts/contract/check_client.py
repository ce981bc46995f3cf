"""Checks the client openapi-python-client generated: it type-checks (mypy) and every module
imports. A clean generation log is not enough: the generator writes, without a warning, code
that cannot run for some documents (a `text/csv` body described as a plain string is sent as
`body.payload` of a `str`; two components of one name make a model read another's enum).

    python check_client.py CLIENT_DIR PACKAGE

Known generator bugs (not the document's) are reported and not counted; each is matched by
its exact symptom, so an entry stops matching by itself once the pinned generator fixes it.
Exits 1 on any other error.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

from mypy import api as mypy_api

# openapi-python-client 0.29.1: a required request body with several content types (the
# objection: JSON or multipart) is annotated `... | Unset = UNSET` without importing `Unset`,
# so the module cannot be imported. Upstream: openapi-generators/openapi-python-client#1451.
KNOWN_GENERATOR_BUGS = {
    'Name "Unset" is not defined': "openapi-python-client#1451",
    "name 'Unset' is not defined": "openapi-python-client#1451",
}


def known_bug(message: str) -> str | None:
    return next((issue for symptom, issue in KNOWN_GENERATOR_BUGS.items() if symptom in message), None)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    client_dir, package = argv[1:]
    errors: list[str] = []
    known: list[str] = []

    out, err, _ = mypy_api.run(
        ["--no-incremental", "--no-error-summary", "--hide-error-context", "-p", package]
    )
    for line in (out + err).splitlines():
        if ": error:" not in line:
            continue
        issue = known_bug(line)
        (known if issue else errors).append(f"mypy: {line}" + (f"  [{issue}]" if issue else ""))

    sys.path.insert(0, client_dir)
    root = importlib.import_module(package)
    modules = 0
    for info in pkgutil.walk_packages(root.__path__, f"{package}."):
        modules += 1
        try:
            importlib.import_module(info.name)
        except Exception as e:  # any failure to import is a finding
            issue = known_bug(str(e))
            line = f"import {info.name}: {e!r}" + (f"  [{issue}]" if issue else "")
            (known if issue else errors).append(line)

    for line in known:
        print(f"known generator bug (not counted): {line}")
    for line in errors:
        print(f"ERROR {line}")
    print(f"generated client: {modules} modules, {len(errors)} errors, {len(known)} known generator bugs")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
