"""The whole intake workflow through the Python client that openapi-python-client generated
from the served document — a client nobody here wrote — and nothing else: no raw HTTP, no
patched code.

    python smoke.py BASE_URL CLIENT_PACKAGE PDF_FILE

An institution registers and signs in, completes its profile, roster (a teacher with a
credential and a criminal-record check), two consecutive passed annual inspections and every
required document (the merged PDF included), and applies in the open round (the admin opens
one if none is); it submits, a reviewer approves it with approved items and publishes a notice,
the admin moves the service clock past the notice window, the job worker admits the
application, and the institution is found in the public pool search. Every step asserts the
typed result. At the end the clock goes back to real time, so the fuzzing that follows signs
in with tokens valid at the real time.

The script depends on the document's operationIds (stable, one per operation) and the JSON
field names, not on component names or tags: each operation module is found by its
operationId, and each request model is the one the operation's typed function declares
(`typing.get_type_hints`), built with the model's own `from_dict`. The demo accounts come
from `serve --demo`.
"""

from __future__ import annotations

import datetime as dt
import importlib
import io
import pkgutil
import random
import sys
import time
import typing
from types import ModuleType
from typing import Any

DEMO_PASSWORD = "demo-password-2026"
PASSWORD = "contract-smoke-password-2026"
ITEMS = ["sports.basketball", "sports.football"]
DOCUMENT_KINDS = [
    "registration_certificate",
    "uscc_certificate",
    "legal_rep_id",
    "teacher_certificate",
    "inspection_record",
    "service_plan",
    "integrity_pledge",
    "merged_pdf",
]
ADMISSION_TIMEOUT_S = 60.0


class SmokeFailure(Exception):
    pass


def step(text: str) -> None:
    print(f"-- {text}", flush=True)


# ---- the generated client, reached by operationId ----------------------------------------


class Api:
    def __init__(self, package: str, base_url: str) -> None:
        self.package = importlib.import_module(package)
        self.client_module = importlib.import_module(f"{package}.client")
        self.types = importlib.import_module(f"{package}.types")
        self.base_url = base_url
        # operationId -> module name; modules are imported on first use, so the workflow
        # needs only the operations it calls (check_client.py imports every one).
        self.operations: dict[str, str] = {}
        api = importlib.import_module(f"{package}.api")
        for info in pkgutil.walk_packages(api.__path__, f"{package}.api."):
            if not info.ispkg:
                name = info.name.rsplit(".", 1)[-1]
                if name in self.operations:
                    raise SmokeFailure(f"two generated modules for operationId {name}")
                self.operations[name] = info.name

    def op(self, operation_id: str) -> ModuleType:
        try:
            return importlib.import_module(self.operations[operation_id])
        except KeyError:
            raise SmokeFailure(f"the generated client has no operation {operation_id}") from None

    def public(self) -> Any:
        return self.client_module.Client(base_url=self.base_url, raise_on_unexpected_status=True)

    def signed_in(self, token: str) -> Any:
        return self.client_module.AuthenticatedClient(
            base_url=self.base_url, token=token, raise_on_unexpected_status=True
        )

    def body(self, operation_id: str, data: dict[str, Any]) -> Any:
        """The operation's declared request model, built from `data` with `from_dict`; every
        key of `data` must survive (a model the document describes without one of the fields
        the service needs would otherwise drop it silently)."""
        function = self.op(operation_id).sync_detailed
        model = typing.get_type_hints(function)["body"]
        try:
            built = model.from_dict(data)
        except Exception as e:  # a value the model's types refuse (an enum without it, ...)
            raise SmokeFailure(
                f"{operation_id}: the document's request model {model.__name__} refuses "
                f"{data!r}: {e!r}"[:3000]
            ) from e
        if not isinstance(data.get("file"), bytes):
            dumped = built.to_dict()
            missing = set(data) - set(dumped)
            if missing:
                raise SmokeFailure(
                    f"{operation_id}: the document's request model {model.__name__} has no "
                    f"field(s) {sorted(missing)}"
                )
        return built

    def call(self, operation_id: str, client: Any, expect: int, **kwargs: Any) -> Any:
        """Calls the operation's typed `sync_detailed`, requires status `expect` and returns
        the parsed model (never the problem body)."""
        module = self.op(operation_id)
        try:
            response = module.sync_detailed(client=client, **kwargs)
        except Exception as e:  # the generated code failed: an undocumented status, a
            # response its models cannot parse, a request it cannot build
            raise SmokeFailure(f"{operation_id}: the generated client failed: {e!r}"[:3000]) from e
        status = int(response.status_code)
        parsed = response.parsed
        if status != expect or parsed is None or type(parsed).__name__ == "ProblemBody":
            detail = response.content.decode("utf-8", "replace")[:2000]
            raise SmokeFailure(f"{operation_id}: expected {expect}, got {status}: {detail}")
        return parsed


# ---- identifiers with their check characters ----------------------------------------------

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def uscc(body17: str) -> str:
    """GB 32100-2015: the 18th character makes the weighted sum a multiple of 31."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(body17, USCC_WEIGHTS, strict=True))
    return body17 + USCC_CHARS[(31 - total % 31) % 31]


def resident_id(body17: str) -> str:
    """GB 11643-1999: ISO 7064 MOD 11-2 check character."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(c) * w for c, w in zip(body17, weights, strict=True))
    return body17 + "10X98765432"[total % 11]


# ---- the workflow --------------------------------------------------------------------------


def sign_in(api: Api, email: str, password: str) -> Any:
    body = api.body("login", {"email": email, "password": password})
    token = api.call("login", api.public(), 200, body=body)
    assert token.account.email == email, token.account
    return api.signed_in(token.access_token)


def run(base_url: str, package: str, pdf: bytes) -> None:
    api = Api(package, base_url)
    public = api.public()
    admin = sign_in(api, "admin@demo.local", DEMO_PASSWORD)
    reviewer = sign_in(api, "reviewer@demo.local", DEMO_PASSWORD)

    step("the service clock (back to real time: a no-op on a fresh server)")
    clock = api.call("set_clock", admin, 200, body=api.body("set_clock", {"now": None}))
    assert clock.overridden is False, clock
    now: dt.datetime = clock.now
    today: dt.date = clock.today

    step("an open selection round")
    rounds = api.call("list_rounds", public, 200)
    open_rounds = [r for r in rounds if r.open_now]
    if open_rounds:
        round_ = open_rounds[0]
    else:
        round_ = api.call(
            "create_round",
            admin,
            201,
            body=api.body(
                "create_round",
                {
                    "name": "契约测试批次",
                    "opens_at": (now - dt.timedelta(hours=1)).isoformat(),
                    "closes_at": (now + dt.timedelta(days=30)).isoformat(),
                    "pool_valid_from": today.isoformat(),
                    "pool_valid_until": (today + dt.timedelta(days=730)).isoformat(),
                },
            ),
        )
        assert round_.open_now, round_

    step("an institution registers and signs in")
    n = random.randrange(1_000_000)
    code = uscc(f"52450100MJ8{n:06d}")
    check = api.call("check_uscc", public, 200, code=code)
    assert check.valid, check
    email = f"contract-smoke-{n}@example.cn"
    name = f"南宁市契约测试{n}号青少年课后服务中心"
    registered = api.call(
        "register_institution",
        public,
        201,
        body=api.body(
            "register_institution",
            {
                "email": email,
                "password": PASSWORD,
                "display_name": "王经理",
                "institution_name": name,
                "uscc": code,
                "entity_type": "private_non_enterprise_unit",
            },
        ),
    )
    assert registered.account.role == "institution", registered.account
    institution = sign_in(api, email, PASSWORD)
    me = api.call("get_me", institution, 200)
    institution_id: int = me.institution.id

    step("its profile, teacher, inspections and documents")
    profile = api.call(
        "update_my_profile",
        institution,
        200,
        body=api.body(
            "update_my_profile",
            {
                "registration_kind": "private_non_enterprise_certificate",
                "registration_number": f"民证字第4501{n % 100000:05d}号",
                "issuing_authority": "南宁市民政局",
                "authority_level": "city",
                "registered_address": "南宁市青秀区民族大道100号",
                "district": "青秀区",
                "legal_rep_name": "张三",
                "legal_rep_id": {"kind": "resident_id", "number": resident_id("45010319850101123")},
                "contact_person": "王经理",
                "contact_mobile": "13800771234",
                "contact_email": email,
            },
        ),
    )
    assert profile.district == "青秀区", profile
    teacher = api.call(
        "create_teacher",
        institution,
        201,
        body=api.body(
            "create_teacher",
            {
                "name": "李老师",
                "identity": {"kind": "resident_id", "number": resident_id("45010319900202234")},
                "credentials": [
                    {
                        "kind": "teacher_qualification",
                        "number": f"2015450021{n:07d}",
                        "issuer": "南宁市教育局",
                        "issued_on": "2015-07-01",
                    }
                ],
                "specialities": ITEMS,
                "criminal_check": {
                    "date": (today - dt.timedelta(days=30)).isoformat(),
                    "result": "clean",
                    "issuer": "南宁市公安局青秀分局",
                },
            },
        ),
    )
    for year in (today.year - 2, today.year - 1):
        inspection = api.call(
            "create_inspection",
            institution,
            201,
            body=api.body(
                "create_inspection",
                {"year": year, "result": "passed", "authority": "南宁市民政局"},
            ),
        )
        assert inspection.year == year, inspection
    document_ids = []
    for kind in DOCUMENT_KINDS:
        form = api.body("upload_document", {"kind": kind, "file": pdf})
        form.file = api.types.File(
            payload=io.BytesIO(pdf), file_name=f"{kind}.pdf", mime_type="application/pdf"
        )
        document = api.call("upload_document", institution, 201, body=form)
        assert document.kind == kind, document
        document_ids.append(document.id)

    step("an application, submitted")
    application = api.call(
        "create_application",
        institution,
        201,
        body=api.body(
            "create_application",
            {
                "round_id": round_.id,
                "proposed_items": ITEMS,
                "service_plan": "每周三次课后训练，配备专职教练与安全员",
                "teacher_ids": [teacher.id],
                "document_ids": document_ids,
                "pledge_signed": True,
            },
        ),
    )
    assert application.status == "draft", application
    submitted = api.call("submit_application", institution, 200, id=application.id)
    assert submitted.status == "submitted", submitted

    step("a reviewer reads the dossier and approves it with approved items")
    api.call("get_application_dossier", reviewer, 200, id=application.id)
    approved = api.call(
        "decide_application",
        reviewer,
        200,
        id=application.id,
        body=api.body(
            "decide_application",
            {"decision": "approve", "approved_items": ITEMS[:1], "note": "契约测试"},
        ),
    )
    assert approved.status == "approved", approved
    assert [item.code for item in approved.approved_items] == ITEMS[:1], approved.approved_items

    step("a notice is published today")
    notice = api.call(
        "publish_notice",
        reviewer,
        201,
        body=api.body(
            "publish_notice",
            {"publication_date": today.isoformat(), "application_ids": [application.id]},
        ),
    )
    assert [a.application_id for a in notice.applications] == [application.id], notice.applications
    shown = api.call("get_notice", public, 200, id=notice.id)
    assert shown.id == notice.id, shown

    step("the clock moves past the notice window; the job worker admits the application")
    closes_at: dt.datetime = notice.window.closes_at
    moved = api.call(
        "set_clock",
        admin,
        200,
        body=api.body("set_clock", {"now": (closes_at + dt.timedelta(seconds=1)).isoformat()}),
    )
    assert moved.overridden, moved
    # Days passed on the service clock: every token issued before has expired.
    institution = sign_in(api, email, PASSWORD)
    deadline = time.monotonic() + ADMISSION_TIMEOUT_S
    while True:
        current = api.call("get_application", institution, 200, id=application.id)
        if current.status == "admitted":
            break
        if time.monotonic() > deadline:
            raise SmokeFailure(f"not admitted within {ADMISSION_TIMEOUT_S:.0f} s: {current.status}")
        time.sleep(0.2)

    step("the institution is in the public pool")
    deadline = time.monotonic() + 5.0
    while True:
        page = api.call("search_pool", public, 200, q=name, category="sports")
        found = [entry for entry in page.items if entry.institution_id == institution_id]
        if found:
            break
        if time.monotonic() > deadline:
            raise SmokeFailure(f"institution {institution_id} not in the pool search: {page}")
        time.sleep(0.2)
    assert [item.code for item in found[0].items] == ITEMS[:1], found[0].items
    entry = api.call("get_pool_entry", public, 200, institution_id=institution_id)
    assert entry.name == name, entry

    step("the clock goes back to real time")
    admin = sign_in(api, "admin@demo.local", DEMO_PASSWORD)
    clock = api.call("set_clock", admin, 200, body=api.body("set_clock", {"now": None}))
    assert clock.overridden is False, clock


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    base_url, package, pdf_path = argv[1:]
    with open(pdf_path, "rb") as f:
        pdf = f.read()
    try:
        run(base_url, package, pdf)
    except SmokeFailure as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1
    print("smoke: the generated client ran the whole workflow")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
