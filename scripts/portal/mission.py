"""The whole mission through pages only (issue 16, "Done when"), in headless Chromium.

An institution registers, builds its roster, records its inspections, uploads the merged PDF
and submits; a submission without the pledge is blocked and shows its finding; the reviewer
returns it; the institution corrects and resubmits; the reviewer approves and publishes a
notice; a visitor objects; the reviewer dismisses the objection; the institution is admitted
(the settable clock is moved past the notice window through `PUT /admin/clock` and the
server's job runner admits it: test plumbing, not a user step); a school finds it in the pool,
signs a two-school-year contract, evaluates a term and terminates for subcontracting with
evidence; the institution files its statement of defence; the reviewer removes it; the ban
shows on /bans. Every step is also checked through the JSON API; every page passes axe-core
(no serious or critical violation) and is photographed at 375 and 1280 px (`mission-*.png`).

    python mission.py BASE_URL OUT_DIR AXE_JS MERGED_PDF
"""

import random
import sys
import time
from datetime import date, datetime, timedelta

from selenium.webdriver.common.by import By

import kit
from kit import api, check, choose, go, press, resident_id, set_date, text, type_into, uscc

BASE, OUT, AXE_JS, PDF = sys.argv[1:5]
OWN_PASSWORD = "mission-password-2026"
driver = kit.start(BASE, OUT, AXE_JS)


def audit(name):
    kit.audit(f"mission-{name}", max_height=8000)


def sign_in(email, password=kit.PASSWORD):
    go("/sign-in")
    type_into("email", email)
    type_into("password", password)
    press("form[action='/sign-in'] button[type=submit]")


def sign_out(workspace=None):
    """The header's sign-out button (on `workspace` when the page on screen is a public one)."""
    if workspace:
        go(workspace)
    press("form.signout button[type=submit]")


def submit_form_of(element_id):
    """Submits the form that holds the element `element_id`."""
    form = driver.find_element(By.ID, element_id).find_element(By.XPATH, "./ancestor::form")
    kit.follow(form.find_element(By.CSS_SELECTOR, "button[type=submit]"), 30)


def wait_for(condition, what, seconds=60):
    """Polls `condition` (the server's job runner works in the background)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.5)
    check(False, f"{what} (waited {seconds} s)")
    return False


def today_on_the_sign_page():
    """The service's date (Beijing): the first example of the school-year rule starts today."""
    first = driver.find_element(By.CSS_SELECTOR, "#school-year-rule li").text
    return date.fromisoformat(first[:10])


n = random.randint(100000, 9999999)
email = f"mission{n}@example.cn"
name = f"南宁市第{n}号课后服务中心"
notice_id = None
try:
    print("== the institution registers and builds its file")
    go("/register")
    type_into("institution_name", name)
    type_into("uscc", uscc(n))
    choose("entity_type", "private_non_enterprise_unit")
    type_into("display_name", "赵经理")
    type_into("email", email)
    type_into("password", OWN_PASSWORD)
    audit("register")
    press("main form button[type=submit]")
    check(driver.current_url.endswith("/institution/profile"), "registered and signed in")
    token = kit.login(email, OWN_PASSWORD)
    kit.fill_profile(n, "赵一", "赵经理")
    check(api("GET", "/api/v1/institutions/me", token=token)["district"] == "青秀区",
          "API: the profile is saved")
    check(resident_id(n) not in driver.page_source, "the identity number is not shown")
    audit("profile")

    kit.add_teacher(n, "钱老师")
    teachers = api("GET", "/api/v1/institutions/me/teachers", token=token)
    check(len(teachers) == 1, "API: the teacher is on the roster")
    check(resident_id(n + 1) not in driver.page_source, "the teacher's number is not shown")
    audit("teachers")
    kit.add_inspections()
    check(len(api("GET", "/api/v1/institutions/me/inspections", token=token)) == 2,
          "API: two inspections")
    audit("inspections")
    statuses = kit.upload_documents(PDF)
    check(len(statuses) == 8 and all(s == "ok" for s in statuses),
          f"eight uploads with their text extracted ({statuses})")
    rows = driver.find_elements(By.CSS_SELECTOR, "tr[data-document]")
    kinds = {api("GET", f"/api/v1/documents/{r.get_attribute('data-document')}", token=token)["kind"]
             for r in rows}
    check("merged_pdf" in kinds, "API: the merged PDF is stored")
    audit("documents")

    print("== a blocked submission shows its findings; then it is submitted")
    app_id = kit.apply_without_pledge(teachers[0]["id"], "每周三次篮球课后训练，配备专职教练与安全员。")
    findings = driver.find_elements(By.CSS_SELECTOR, "#pledge_signed-findings .finding")
    check(bool(findings) and "依据" in findings[0].text, "the blocking finding stands by the pledge")
    check(api("GET", f"/api/v1/applications/{app_id}", token=token)["status"] == "draft",
          "API: still a draft")
    audit("application-blocked")
    driver.find_element(By.ID, "pledge_signed-input").click()
    press("button[value=submit]")
    check(api("GET", f"/api/v1/applications/{app_id}", token=token)["status"] == "submitted",
          "API: submitted")
    audit("application-submitted")
    sign_out()

    print("== the reviewer returns it")
    reviewer_token = kit.login("reviewer@demo.local")
    sign_in("reviewer@demo.local")
    go(f"/review/applications/{app_id}")
    check(name in driver.find_element(By.TAG_NAME, "h1").text, "the dossier opens")
    audit("dossier")
    driver.find_element(By.ID, "return-reasons").send_keys("请在服务方案中写明每次课的时长和安全措施。")
    days = driver.find_element(By.ID, "return-deadline_working_days")
    days.clear()
    days.send_keys("3")
    submit_form_of("return-reasons")
    check(api("GET", f"/api/v1/applications/{app_id}", token=reviewer_token)["status"]
          == "returned", "API: returned for correction")
    audit("returned")
    sign_out()

    print("== the institution corrects and resubmits")
    sign_in(email, OWN_PASSWORD)
    go(f"/institution/applications/{app_id}")
    check("请在服务方案中写明" in text(), "the institution sees the reviewer's reasons")
    type_into("service_plan-input",
              "每周三次篮球课后训练，每次 90 分钟；配备专职教练与安全员，课前检查场地器材。")
    audit("application-returned")
    press("button[value=submit]")
    check(api("GET", f"/api/v1/applications/{app_id}", token=token)["status"] == "submitted",
          "API: resubmitted")
    sign_out()

    print("== the reviewer approves and publishes a notice")
    sign_in("reviewer@demo.local")
    go(f"/review/applications/{app_id}")
    submit_form_of("approve-note")
    check(api("GET", f"/api/v1/applications/{app_id}", token=reviewer_token)["status"]
          == "approved", "API: approved")
    kit.follow(driver.find_element(By.LINK_TEXT, "发布公示"))
    for box in driver.find_elements(By.CSS_SELECTOR, "input[name=application_ids]"):
        if (box.get_attribute("value") == str(app_id)) != box.is_selected():
            box.click()
    audit("notice-new")
    submit_form_of("notice-publication_date")
    check("/notices/" in driver.current_url, "the notice is published")
    notice_id = int(driver.current_url.rstrip("/").split("/")[-1])
    check(api("GET", f"/api/v1/applications/{app_id}", token=reviewer_token)["status"]
          == "in_notice", "API: in the notice")
    sign_out("/review")

    print("== a visitor objects; the reviewer dismisses the objection")
    go(f"/notices/{notice_id}/object?application={app_id}")
    type_into("name", "孙八")
    type_into("mobile", "13612345678")
    type_into("grounds", "该机构的篮球教练并未在该机构任教，与公示材料不符。")
    audit("objection")
    press("main form button[type=submit]")
    objections = api("GET", f"/api/v1/objections?application_id={app_id}",
                     token=reviewer_token)["items"]
    check(len(objections) == 1, "API: the objection is received")
    objection = objections[0]["id"]
    sign_in("reviewer@demo.local")
    go(f"/review/applications/{app_id}")
    driver.find_element(
        By.CSS_SELECTOR, f"#objection-{objection} input[name=outcome][value=dismissed]").click()
    driver.find_element(By.ID, f"objection-{objection}-reasons").send_keys(
        "经核查，该教练与机构签有劳动合同，异议不成立。")
    submit_form_of(f"objection-{objection}-reasons")
    listed = api("GET", f"/api/v1/objections?application_id={app_id}", token=reviewer_token)
    check([o["status"] for o in listed["items"]] == ["dismissed"], "API: dismissed")
    audit("objection-dismissed")
    sign_out()

    print("== the notice closes and the institution is admitted (clock moved, jobs run)")
    notice = api("GET", f"/api/v1/notices/{notice_id}")
    closes = datetime.fromisoformat(notice["window"]["closes_at"].replace("Z", "+00:00"))
    # The objection was just accepted, so the window is still open: the clock goes forward.
    api("PUT", "/api/v1/admin/clock", {"now": (closes + timedelta(seconds=2)).isoformat()},
        token=kit.login("admin@demo.local"))
    reviewer_token = kit.login("reviewer@demo.local")
    token = kit.login(email, OWN_PASSWORD)
    wait_for(lambda: api("GET", f"/api/v1/applications/{app_id}", token=token)["status"]
             == "admitted", "API: admitted")
    check(api("GET", f"/api/v1/applications/{app_id}", token=token)["status"] == "admitted",
          "API: the institution is admitted")

    print("== a school signs a two-school-year contract, evaluates and terminates")
    school_token = kit.login("school@demo.local")
    sign_in("school@demo.local")
    go("/school/pool?q=" + str(n))
    check(name in text(), "the school finds the institution in the pool")
    audit("school-pool")
    kit.follow(driver.find_element(By.CSS_SELECTOR, "#pool-results li a"))
    check("9 月 1 日" in text() and "8 月 31 日" in text(), "the school-year rule is explained")
    today = today_on_the_sign_page()
    school_year = today.year if today.month >= 9 else today.year - 1
    latest = date(school_year + 2, 8, 31)
    driver.find_element(By.CSS_SELECTOR, "input[name=items][value='sports.basketball']").click()
    set_date("starts_on", today.isoformat())
    set_date("ends_on", (latest + timedelta(days=1)).isoformat())
    press("main form button[type=submit]")
    error = driver.find_elements(By.ID, "ends_on-error")
    check(bool(error) and "两个学年" in error[0].text, "one day too long: refused next to the end date")
    audit("contract-too-long")
    set_date("ends_on", latest.isoformat())
    press("main form button[type=submit]")
    contract_id = int(driver.current_url.rstrip("/").split("/")[-1])
    contract = api("GET", f"/api/v1/contracts/{contract_id}", token=school_token)
    check(contract["status"] == "active" and contract["ends_on"] == latest.isoformat(),
          f"API: a contract to {latest}, two school years")
    audit("contract")
    term = f"{school_year}-{school_year + 1}-{1 if today.month >= 9 or today.month == 1 else 2}"
    choose("term", term)
    for field in ("quality", "safety", "punctuality"):
        choose(field, "4")
    type_into("comment", "课程组织有序")
    submit_form_of("comment")
    contract = api("GET", f"/api/v1/contracts/{contract_id}", token=school_token)
    check(len(contract["evaluations"]) == 1, f"API: the {term} evaluation")
    driver.find_element(By.ID, "ground_subcontracting").click()
    type_into("statement", "督查发现该机构将篮球课转包给其他机构。")
    driver.find_element(By.ID, "file").send_keys(PDF)
    audit("terminate")
    submit_form_of("ground_subcontracting")
    contract = api("GET", f"/api/v1/contracts/{contract_id}", token=school_token)
    check(contract["status"] == "terminated", "API: the contract is terminated")
    institution_id = api("GET", "/api/v1/institutions/me", token=token)["id"]
    cases = api("GET", f"/api/v1/exit-cases?institution_id={institution_id}",
                token=reviewer_token)["items"]
    check(len(cases) == 1 and cases[0]["status"] == "open"
          and cases[0]["grounds"][0]["ground"]["code"] == "subcontracting",
          "API: an exit case for subcontracting is open")
    case_id = cases[0]["id"]
    audit("terminated")
    sign_out()

    print("== the institution files its statement of defence")
    sign_in(email, OWN_PASSWORD)
    go("/institution/contracts")
    check("已终止" in text(), "the institution sees the terminated contract")
    audit("institution-contracts")
    go("/institution/exit-cases")
    kit.follow(driver.find_element(By.CSS_SELECTOR, f"a[href='/institution/exit-cases/{case_id}']"))
    check("分包或转包" in text(), "the grounds are shown")
    type_into("statement", "篮球课均由本机构教师授课，未分包或转包。")
    audit("statement")
    submit_form_of("statement")
    case = api("GET", f"/api/v1/exit-cases/{case_id}", token=reviewer_token)
    check(case["statement"] is not None, "API: the statement is filed")
    go("/institution/messages")
    check(len(driver.find_elements(By.CSS_SELECTOR, "#messages tbody tr")) > 0,
          "the institution's e-mails are listed")
    audit("messages")
    sign_out()

    print("== the reviewer removes it; the ban shows on /bans")
    sign_in("reviewer@demo.local")
    go(f"/review/exit-cases/{case_id}")
    driver.find_element(By.CSS_SELECTOR, "input[name=decision][value=remove]").click()
    type_into("exit-reasons", "经核查，机构将课后服务项目转包给其他机构，陈述申辩理由不成立。")
    audit("exit-case")
    submit_form_of("exit-reasons")
    case = api("GET", f"/api/v1/exit-cases/{case_id}", token=reviewer_token)
    check(case["status"] == "removed" and case["ban"] is not None, "API: removed with a ban")
    sign_out()
    go("/bans")
    check(name in text(), "the ban shows on /bans")
    audit("bans")
finally:
    kit.finish("mission pages")
