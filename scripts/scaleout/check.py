"""The two-instance checks of scripts/scaleout/run.sh, with the standard library only.

    python3 check.py scaleout   # environment: see run.sh (NGINX, A, B, PIDS, SMTP_OUT, ...)
    python3 check.py snapshot BASE EMAIL PASSWORD OUT.json
    python3 check.py same A.json B.json

`scaleout` talks to two instances on one PostgreSQL (directly, and through nginx):
  1. a token issued by one instance is accepted by the other;
  2. a document uploaded through one downloads byte-identical through the other;
  3. 20 approved applications in one notice; the clock is moved through nginx (one instance)
     while both workers run; the SMTP sink holds the first e-mails mid-send and the instance
     holding one is killed with SIGKILL; the survivor's clock passes the lease: 20 admissions,
     20 admission e-mails, 0 duplicate Message-IDs, every job one recorded run, the killed
     instance's job finished by the survivor;
  4. pool changes (those admissions) show through the other instance within 1 s.
Each check prints PASS or FAIL; the exit status is 1 if any failed.

`snapshot` writes what a backup must preserve: the pool export and every readable document's
SHA-256; `same` compares two snapshots.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

PASSWORD = "scaleout-password-2026"
APPLICATIONS = 20
ADMISSION_SUBJECT = "贵机构已纳入课后服务备选库"
FAILED: list[str] = []


def report(ok: bool, text: str) -> None:
    print(f"{'PASS' if ok else 'FAIL'}: {text}", flush=True)
    if not ok:
        FAILED.append(text)


class Http:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")

    def request(
        self,
        method: str,
        path: str,
        token: str | None = None,
        body: Any = None,
        raw: bytes | None = None,
        content_type: str | None = None,
    ) -> tuple[int, bytes, dict[str, str]]:
        headers = {"Accept": "application/json, application/octet-stream, */*"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if raw is not None:
            data, headers["Content-Type"] = raw, content_type or "application/octet-stream"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=60) as res:
                return res.status, res.read(), dict(res.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read(), dict(e.headers)

    def json(self, method: str, path: str, expect: int, token: str | None = None, body: Any = None) -> Any:
        status, content, _ = self.request(method, path, token, body)
        if status != expect:
            raise AssertionError(f"{method} {self.base}{path}: {status} (expected {expect}): {content[:600]!r}")
        return json.loads(content) if content else None

    def login(self, email: str, password: str) -> str:
        return self.json("POST", "/api/v1/auth/login", 200, body={"email": email, "password": password})[
            "access_token"
        ]

    def upload(self, token: str, kind: str, name: str, content: bytes) -> dict[str, Any]:
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\n{kind}\r\n'.encode(),
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: application/pdf\r\n\r\n".encode(),
            content,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
        status, body, _ = self.request(
            "POST", "/api/v1/documents", token, raw=b"".join(parts),
            content_type=f"multipart/form-data; boundary={boundary}",
        )
        if status != 201:
            raise AssertionError(f"upload through {self.base}: {status}: {body[:600]!r}")
        return json.loads(body)

    def set_clock(self, token: str, now: str | None) -> dict[str, Any]:
        return self.json("PUT", "/api/v1/admin/clock", 200, token, {"now": now})


# ---- from the contract smoke test: the items, the documents, the check characters -----------

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "contract"))
from smoke import DOCUMENT_KINDS, ITEMS, resident_id, uscc  # noqa: E402


# ---- the database (PostgreSQL through psql) ------------------------------------------------


def sql(query: str) -> list[list[str]]:
    out = subprocess.run(
        [os.environ["PSQL"], os.environ["DATABASE_URL"], "-AtF", "\t", "-c", query],
        check=True, capture_output=True, text=True,
    ).stdout
    return [line.split("\t") for line in out.splitlines() if line]


# ---- the workflow --------------------------------------------------------------------------


def applicant(http: Http, admin_today: dt.date, round_id: int, n: int, pdf: bytes) -> tuple[int, str, str]:
    """Registers institution `n` with everything a submission needs and submits an
    application; returns (application id, e-mail, token)."""
    code = uscc(f"52450100MJ7{n:06d}")
    email = f"scaleout-{n}@example.cn"
    http.json("POST", "/api/v1/auth/register", 201, body={
        "email": email, "password": PASSWORD, "display_name": "王经理",
        "institution_name": f"南宁市扩展测试{n}号课后服务中心", "uscc": code,
        "entity_type": "private_non_enterprise_unit",
    })
    token = http.login(email, PASSWORD)
    http.json("PUT", "/api/v1/institutions/me", 200, token, {
        "registration_kind": "private_non_enterprise_certificate",
        "registration_number": f"民证字第4501{n % 100000:05d}号",
        "issuing_authority": "南宁市民政局", "authority_level": "city",
        "registered_address": "南宁市青秀区民族大道100号", "district": "青秀区",
        "legal_rep_name": "张三",
        "legal_rep_id": {"kind": "resident_id", "number": resident_id(f"450103198501{n % 28 + 1:02d}{n % 1000:03d}")},
        "contact_person": "王经理", "contact_mobile": "13800771234", "contact_email": email,
    })
    teacher = http.json("POST", "/api/v1/institutions/me/teachers", 201, token, {
        "name": "李老师",
        "identity": {"kind": "resident_id", "number": resident_id(f"450103199002{n % 28 + 1:02d}{(n + 500) % 1000:03d}")},
        "credentials": [{"kind": "teacher_qualification", "number": f"2015450021{n:07d}",
                         "issuer": "南宁市教育局", "issued_on": "2015-07-01"}],
        "specialities": ITEMS,
        "criminal_check": {"date": (admin_today - dt.timedelta(days=30)).isoformat(),
                           "result": "clean", "issuer": "南宁市公安局青秀分局"},
    })
    for year in (admin_today.year - 2, admin_today.year - 1):
        http.json("POST", "/api/v1/institutions/me/inspections", 201, token,
                  {"year": year, "result": "passed", "authority": "南宁市民政局"})
    documents = [http.upload(token, kind, f"{kind}.pdf", pdf)["id"] for kind in DOCUMENT_KINDS]
    application = http.json("POST", "/api/v1/applications", 201, token, {
        "round_id": round_id, "proposed_items": ITEMS,
        "service_plan": "每周三次课后训练，配备专职教练与安全员",
        "teacher_ids": [teacher["id"]], "document_ids": documents, "pledge_signed": True,
    })
    http.json("POST", f"/api/v1/applications/{application['id']}/submit", 200, token)
    return application["id"], email, token


def messages() -> list[dict[str, Any]]:
    from email import message_from_string, policy

    out = []
    path = os.environ["SMTP_OUT"]
    if not os.path.exists(path):
        return out
    with open(path, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            parsed = message_from_string(record["data"], policy=policy.default)
            out.append({"to": record["to"], "subject": str(parsed["Subject"] or ""),
                        "message_id": str(parsed["Message-ID"] or "")})
    return out


def wait_for(what: str, predicate, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    print(f"   (gave up waiting for {what} after {timeout:.0f} s)")
    return False


def iso(t: str) -> dt.datetime:
    return dt.datetime.fromisoformat(t.replace("Z", "+00:00"))


def pool_names(http: Http) -> set[str]:
    """The names of this script's institutions in the public pool export."""
    status, content, _ = http.request("GET", "/api/v1/pool/export.json")
    if status != 200:
        return set()
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            name = value.get("name")
            if isinstance(name, str) and name.startswith("南宁市扩展测试"):
                found.add(name)
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(json.loads(content))
    return found


def mail_drained() -> bool:
    """No e-mail waiting or being sent. Moving the clock by days expires every lease taken
    before, so an e-mail in flight at that moment would be sent twice (at least once, with the
    same Message-ID): the checks move the clock only when none is."""
    return not sql("SELECT id FROM jobs WHERE kind = 'email.send' AND state IN ('pending', 'running')")


def scaleout() -> None:
    nginx, a, b = Http(os.environ["NGINX"]), Http(os.environ["A"]), Http(os.environ["B"])
    pids = {"A": int(os.environ["PID_A"]), "B": int(os.environ["PID_B"])}
    instances = {"A": a, "B": b}
    admin_email, reviewer_email = os.environ["ADMIN_EMAIL"], os.environ["REVIEWER_EMAIL"]
    staff_password = os.environ["STAFF_PASSWORD"]
    control = os.environ["SMTP_CONTROL"]
    with open(os.environ["PDF"], "rb") as f:
        pdf = f.read()

    # 1. Tokens.
    for issuer, other in (("A", "B"), ("B", "A")):
        token = instances[issuer].login(admin_email, staff_password)
        status, _, _ = instances[other].request("GET", "/api/v1/me", token)
        report(status == 200, f"a token issued by instance {issuer} is accepted by instance {other} ({status})")

    # 2. Documents.
    admin = nginx.login(admin_email, staff_password)
    clock = nginx.set_clock(admin, None)
    today, now = dt.date.fromisoformat(clock["today"]), iso(clock["now"])
    round_ = nginx.json("POST", "/api/v1/rounds", 201, admin, {
        "name": "扩展测试批次",
        "opens_at": (now - dt.timedelta(hours=1)).isoformat(),
        "closes_at": (now + dt.timedelta(days=60)).isoformat(),
        "pool_valid_from": today.isoformat(),
        "pool_valid_until": (today + dt.timedelta(days=730)).isoformat(),
    })
    a.json("POST", "/api/v1/auth/register", 201, body={
        "email": "scaleout-docs@example.cn", "password": PASSWORD, "display_name": "王经理",
        "institution_name": "南宁市文件测试中心", "uscc": uscc("52450100MJ6000001"),
        "entity_type": "private_non_enterprise_unit",
    })
    inst = a.login("scaleout-docs@example.cn", PASSWORD)
    # A PNG by its magic bytes (no text extraction): several chunks of random bytes.
    png = b"\x89PNG\r\n\x1a\n" + random.randbytes(3 * 256 * 1024 + 17)
    doc = a.upload(inst, "other", "photo.png", png)
    status, content, _ = b.request("GET", f"/api/v1/documents/{doc['id']}/content", inst)
    report(status == 200 and content == png,
           f"a document uploaded through A downloads byte-identical through B "
           f"({status}, {len(content)} of {len(png)} bytes)")
    doc = b.upload(inst, "merged_pdf", "merged.pdf", pdf)
    status, content, _ = a.request("GET", f"/api/v1/documents/{doc['id']}/content", inst)
    report(status == 200 and content == pdf,
           f"a PDF uploaded through B downloads byte-identical through A ({status})")

    # 3. A pool change through one instance shows through the other within 1 s: one
    # application admitted after the clock is moved through A, watched on both.
    reviewer = nginx.login(reviewer_email, staff_password)
    app_id, first_email, _ = applicant(nginx, today, round_["id"], 99, pdf)
    nginx.json("POST", f"/api/v1/applications/{app_id}/decisions", 200, reviewer,
               {"decision": "approve", "approved_items": ITEMS[:1], "note": "扩展测试"})
    notice = nginx.json("POST", "/api/v1/notices", 201, reviewer,
                        {"publication_date": today.isoformat(), "application_ids": [app_id]})
    closed = iso(notice["window"]["closes_at"]) + dt.timedelta(seconds=1)
    wait_for("the notice's e-mails", mail_drained, 60)
    # One clock for all instances: set through A, every instance adopts it within its refresh
    # (REGISTRY_CLOCK_REFRESH_MS, 200 ms). A token taken from B meanwhile could be dated by B's
    # previous time and be expired in the new one, so only A is asked.
    a.set_clock(a.login(admin_email, staff_password), closed.isoformat())
    time.sleep(0.5)
    seen: dict[str, float] = {}
    deadline = time.monotonic() + 120
    while len(seen) < 2 and time.monotonic() < deadline:
        for name, http in instances.items():
            if name not in seen and pool_names(http):
                seen[name] = time.monotonic()
        time.sleep(0.05)
    lag = abs(seen["A"] - seen["B"]) if len(seen) == 2 else float("inf")
    report(lag <= 1.0,
           f"an admission shows in both instances' pool exports within 1 s of each other "
           f"(lag {lag:.2f} s)")
    wait_for("the first admission e-mail", lambda: any(first_email in m["to"] for m in messages()), 60)
    wait_for("the e-mails of the admission", mail_drained, 60)

    # 4. Twenty approved applications in one notice, back at the real time.
    a.set_clock(a.login(admin_email, staff_password), None)
    time.sleep(0.5)
    reviewer = nginx.login(reviewer_email, staff_password)
    applications: list[tuple[int, str]] = []
    for n in range(APPLICATIONS):
        app_id, email, _ = applicant(nginx, today, round_["id"], 100 + n, pdf)
        nginx.json("POST", f"/api/v1/applications/{app_id}/decisions", 200, reviewer,
                   {"decision": "approve", "approved_items": ITEMS[:1], "note": "扩展测试"})
        applications.append((app_id, email))
    print(f"   {APPLICATIONS} applications approved", flush=True)
    notice = nginx.json("POST", "/api/v1/notices", 201, reviewer, {
        "publication_date": today.isoformat(),
        "application_ids": [i for i, _ in applications],
    })
    moved_to = iso(notice["window"]["closes_at"]) + dt.timedelta(seconds=1)
    recipients = {email for _, email in applications}

    # The SMTP sink holds its answers: the first admission e-mails stay mid-send.
    wait_for("the notice's e-mails", mail_drained, 60)
    with open(control, "w") as f:
        f.write("hold")
    nginx.set_clock(nginx.login(admin_email, staff_password), moved_to.isoformat())
    print(f"   clock moved to {moved_to.isoformat()} through nginx; SMTP answers held", flush=True)

    def running_mail_jobs() -> list[list[str]]:
        return sql("SELECT id, locked_by FROM jobs WHERE state = 'running' AND kind = 'email.send'")

    victim: list[str] | None = None
    if wait_for("an admission e-mail mid-send", lambda: bool(running_mail_jobs()), 120):
        victim = running_mail_jobs()[0]
    killed = None
    if victim:
        worker_pid = int(victim[1].rsplit("-", 1)[-1])
        killed = next((name for name, pid in pids.items() if pid == worker_pid), None)
    if killed and victim:
        os.kill(pids[killed], signal.SIGKILL)
        # Gone (its sockets closed) before the SMTP sink answers again.
        wait_for("the killed process to go", lambda: not os.path.exists(f"/proc/{pids[killed]}/fd"), 10, 0.05)
        time.sleep(0.5)
        print(f"   instance {killed} (pid {pids[killed]}) killed with SIGKILL while it sent "
              f"job {victim[0]}", flush=True)
    report(killed is not None, f"an instance was killed while it ran a job (job {victim and victim[0]})")
    with open(control, "w") as f:
        f.write("")
    survivor = "B" if killed == "A" else "A"
    alive = instances[survivor]
    # Leases run in the database's real time (JOB_LEASE_SECONDS=30 here): the survivor takes
    # the killed instance's job over once it has passed; the service clock moves on as well.
    later = (moved_to + dt.timedelta(seconds=400)).isoformat()
    alive.set_clock(alive.login(admin_email, staff_password), later)

    report(
        wait_for(f"{APPLICATIONS + 1} admissions in the pool",
                 lambda: len(pool_names(alive)) >= APPLICATIONS + 1, 180),
        f"{APPLICATIONS} more applications admitted with both workers running, one of them killed",
    )
    reviewer = alive.login(reviewer_email, staff_password)
    statuses = [alive.json("GET", f"/api/v1/applications/{i}", 200, reviewer)["status"]
                for i, _ in applications]
    report(statuses.count("admitted") == APPLICATIONS,
           f"every application is admitted ({statuses.count('admitted')} of {APPLICATIONS})")

    def admission_mails() -> list[dict[str, Any]]:
        return [m for m in messages()
                if ADMISSION_SUBJECT in m["subject"] and recipients & set(m["to"])]

    wait_for(f"{APPLICATIONS} admission e-mails", lambda: len(admission_mails()) >= APPLICATIONS, 180)
    wait_for("no job running", lambda: not sql("SELECT id FROM jobs WHERE state = 'running'"), 60)
    mails = admission_mails()
    to = sorted(addr for m in mails for addr in m["to"] if addr in recipients)
    report(len(mails) == APPLICATIONS and to == sorted(recipients),
           f"{APPLICATIONS} admission e-mails, one to each institution ({len(mails)})")
    everything = messages()
    ids = [m["message_id"] for m in everything]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    for message_id in repeated[:5]:
        print(f"   repeated: {message_id}: "
              f"{[(m['to'], m['subject']) for m in everything if m['message_id'] == message_id]}")
    report(not repeated, f"0 duplicate Message-IDs among {len(ids)} e-mails ({len(repeated)} repeated)")
    twice = sql("SELECT job_id FROM job_runs WHERE outcome = 'done' "
                "GROUP BY job_id HAVING count(*) > 1")
    report(not twice, f"every job ran to completion once ({len(twice)} more than once)")
    if victim:
        runs = sql(f"SELECT worker, outcome FROM job_runs WHERE job_id = {int(victim[0])}")
        state = sql(f"SELECT state FROM jobs WHERE id = {int(victim[0])}")
        report(state == [["done"]] and [o for _, o in runs] == ["done"]
               and runs[0][0].endswith(f"-{pids[survivor]}"),
               f"the killed instance's job {victim[0]} was finished by the survivor after the "
               f"lease ({state}, {runs})")
    workers = [w[0] for w in sql("SELECT DISTINCT worker FROM job_runs")]
    print(f"   workers that finished jobs: {workers}")
    # Where the survivor's clock stands, for the backup comparison that follows.
    with open(os.environ["CLOCK_OUT"], "w") as f:
        f.write(later)


# ---- backups -------------------------------------------------------------------------------


def snapshot(base: str, email: str, password: str, out: str) -> int:
    """With SNAPSHOT_CLOCK set, the service clock is set to it first (the pool export is of a
    date)."""
    http = Http(base)
    if os.environ.get("SNAPSHOT_CLOCK"):
        http.set_clock(http.login(email, password), os.environ["SNAPSHOT_CLOCK"])
    token = http.login(email, password)
    status, export, _ = http.request("GET", "/api/v1/pool/export.json")
    assert status == 200, status
    documents: dict[str, str] = {}
    misses, doc_id = 0, 0
    while misses < 20:
        doc_id += 1
        status, content, _ = http.request("GET", f"/api/v1/documents/{doc_id}/content", token)
        if status == 200:
            documents[str(doc_id)] = hashlib.sha256(content).hexdigest()
            misses = 0
        else:
            misses += 1
    with open(out, "w") as f:
        json.dump({"pool_export_sha256": hashlib.sha256(export).hexdigest(),
                   "pool_export_bytes": len(export), "documents": documents}, f, indent=1)
    print(f"snapshot of {base}: pool export {len(export)} bytes, {len(documents)} documents")
    return 0


def same(first: str, second: str) -> int:
    with open(first) as f:
        x = json.load(f)
    with open(second) as f:
        y = json.load(f)
    report(x["pool_export_sha256"] == y["pool_export_sha256"],
           f"the same pool export ({x['pool_export_bytes']} / {y['pool_export_bytes']} bytes)")
    report(x["documents"] == y["documents"] and len(x["documents"]) > 0,
           f"the same documents ({len(x['documents'])} / {len(y['documents'])}, by SHA-256)")
    return 1 if FAILED else 0


def main(argv: list[str]) -> int:
    try:
        if argv[1:2] == ["scaleout"]:
            scaleout()
        elif argv[1:2] == ["snapshot"] and len(argv) == 6:
            return snapshot(*argv[2:])
        elif argv[1:2] == ["same"] and len(argv) == 4:
            return same(*argv[2:])
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except AssertionError as e:
        report(False, f"the workflow stopped: {e}")
    if FAILED:
        print(f"{len(FAILED)} check(s) failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
