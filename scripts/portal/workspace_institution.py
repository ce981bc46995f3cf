"""The institution's workspace in a real browser (headless Chromium through chromedriver).

A new institution registers (a refused first try shows the error next to its field), signs in
by registering, completes its profile, builds its roster, records its inspections, uploads the
merged PDF and the other documents, and applies: a submission without the integrity pledge is
blocked and shows the finding next to the pledge with its rule; with the pledge it is
submitted. Each step is also checked through the JSON API. Every page passes axe-core with no
serious or critical violation and is photographed at 375 and 1280 px (`ws-*.png`).

    python workspace_institution.py BASE_URL OUT_DIR AXE_JS MERGED_PDF
"""

import json
import random
import sys
import urllib.request
from datetime import date, timedelta

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

BASE, OUT, AXE_JS, PDF = sys.argv[1:5]
AXE = open(AXE_JS, encoding="utf-8").read()
FAILURES = []
PASSWORD = "workspace-password-2026"


def verdict(condition, what):
    print(("   ok   " if condition else "   FAIL ") + what, flush=True)
    if not condition:
        FAILURES.append(what)


def call(method, path, token, body=None):
    req = urllib.request.Request(BASE + path, method=method)
    req.add_header("Accept", "application/json")
    req.add_header("Authorization", "Bearer " + token)
    data = None if body is None else json.dumps(body).encode()
    if data:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, data) as res:
        return json.loads(res.read() or b"null")


def bearer(email):
    req = urllib.request.Request(BASE + "/api/v1/auth/login", method="POST")
    req.add_header("Content-Type", "application/json")
    body = json.dumps({"email": email, "password": PASSWORD}).encode()
    with urllib.request.urlopen(req, body) as res:
        return json.loads(res.read())["access_token"]


def uscc(n):
    """A valid unified social credit code (GB 32100) of a private non-enterprise unit."""
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = f"52450100MJ{n:07d}"
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    total = sum(chars.index(c) * w for c, w in zip(body, weights))
    return body + chars[(31 - total % 31) % 31]


def resident_id(n):
    """A valid resident identity number (GB 11643)."""
    body = f"45010319{85 + n % 10:02d}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]


options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
            "--lang=zh-CN", "--window-size=1280,900"):
    options.add_argument(arg)
options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(30)


def axe_and_photos(name):
    driver.execute_script(AXE)
    found = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))"
        ".catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));")
    serious = [v for v in found if v["impact"] in ("serious", "critical")]
    for v in serious:
        print(f"      {v['impact']} {v['id']}: {v['help']} {v['nodes']}")
    verdict(not serious, f"{name}: no serious or critical axe-core violation ({len(found)} minor)")
    for width in (375, 1280):
        driver.set_window_size(width, 900)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, min(max(height, 600), 8000))
        driver.save_screenshot(f"{OUT}/ws-{name}-{width}.png")
    driver.set_window_size(1280, 900)


def open_page(path):
    driver.get(BASE + path)


def type_into(field_id, value):
    element = driver.find_element(By.ID, field_id)
    element.clear()
    element.send_keys(value)


def choose(field_id, value):
    Select(driver.find_element(By.ID, field_id)).select_by_value(value)


def press(selector):
    """Clicks a submit button and waits for the next page."""
    old = driver.find_element(By.TAG_NAME, "html")
    try:
        driver.find_element(By.CSS_SELECTOR, selector).click()
    except WebDriverException as e:
        print(f"      (click reported: {e.msg})")
    WebDriverWait(driver, 30).until(expected_conditions.staleness_of(old))


def page_text():
    return driver.find_element(By.TAG_NAME, "body").text


n = random.randint(100000, 9999999)
email = f"ws{n}@example.cn"
code = uscc(n)
try:
    print("== an institution registers")
    open_page("/register")
    type_into("institution_name", f"南宁市第{n}课后服务中心")
    type_into("uscc", code)
    choose("entity_type", "enterprise")
    type_into("display_name", "王经理")
    type_into("email", email)
    type_into("password", PASSWORD)
    press("main form button[type=submit]")
    errors = driver.find_elements(By.ID, "entity_type-error")
    verdict(bool(errors) and errors[0].text != "", "a wrong entity type is refused next to its field")
    verdict(driver.find_element(By.ID, "uscc").get_attribute("value") == code, "the values are kept")
    axe_and_photos("register-refused")
    choose("entity_type", "private_non_enterprise_unit")
    type_into("password", PASSWORD)
    press("main form button[type=submit]")
    verdict(driver.current_url.endswith("/institution/profile"), "registered and signed in: the profile")
    token = bearer(email)

    print("== the profile")
    choose("registration_kind", "private_non_enterprise_certificate")
    type_into("registration_number", f"民证字第{n}号")
    type_into("issuing_authority", "南宁市民政局")
    choose("authority_level", "city")
    type_into("registered_address", "南宁市青秀区民族大道100号")
    type_into("district", "青秀区")
    type_into("legal_rep_name", "张三")
    choose("legal_rep_id_kind", "resident_id")
    type_into("legal_rep_id_number", resident_id(n))
    type_into("contact_person", "王经理")
    type_into("contact_mobile", "13800771234")
    press("main form button[type=submit]")
    verdict("已保存" in page_text(), "the profile is saved")
    verdict(resident_id(n) not in driver.page_source, "the identity number is not shown")
    verdict(call("GET", "/api/v1/institutions/me", token)["district"] == "青秀区", "API: the profile")
    axe_and_photos("profile")

    print("== the roster")
    open_page("/institution/teachers")
    type_into("name", "李老师")
    choose("id_kind", "resident_id")
    type_into("id_number", resident_id(n + 1))
    choose("speciality", "sports.basketball")
    choose("credential_kind", "teacher_qualification")
    type_into("credential_number", f"2015450021{n % 10000000:07d}")
    type_into("credential_issuer", "南宁市教育局")
    driver.execute_script("document.getElementById('credential_issued_on').value = '2015-07-01'")
    checked = (date.today() - timedelta(days=30)).isoformat()
    driver.execute_script(f"document.getElementById('check_date').value = '{checked}'")
    choose("check_result", "clean")
    type_into("check_issuer", "南宁市公安局青秀分局")
    press("main form button[type=submit]")
    verdict("已添加教师" in page_text(), "the teacher is on the roster")
    teachers = call("GET", "/api/v1/institutions/me/teachers", token)
    verdict(len(teachers) == 1, "API: one teacher")
    axe_and_photos("teachers")

    print("== the annual inspections")
    this_year = date.today().year
    for year in (this_year - 2, this_year - 1):
        open_page("/institution/inspections")
        type_into("year", str(year))
        choose("result", "passed")
        type_into("authority", "南宁市民政局")
        press("main form button[type=submit]")
    verdict(len(call("GET", "/api/v1/institutions/me/inspections", token)) == 2, "API: two inspections")
    axe_and_photos("inspections")

    print("== the uploads, the merged PDF among them")
    for kind in ("registration_certificate", "uscc_certificate", "legal_rep_id",
                 "teacher_certificate", "inspection_record", "service_plan", "integrity_pledge",
                 "merged_pdf"):
        open_page("/institution/documents")
        choose("kind", kind)
        driver.find_element(By.ID, "file").send_keys(PDF)
        press("main form button[type=submit]")
    statuses = [e.get_attribute("data-status")
                for e in driver.find_elements(By.CSS_SELECTOR, "td.text-status")]
    verdict(len(statuses) == 8 and all(s == "ok" for s in statuses),
            f"eight uploads with their text extracted ({statuses})")
    axe_and_photos("documents")

    print("== the application: blocked without the pledge, then submitted")
    open_page("/institution/applications/new")
    driver.find_element(By.ID, "item-sports.basketball").click()
    press("main form button[type=submit]")
    application = int(driver.current_url.rstrip("/").split("/")[-1])
    driver.find_element(By.ID, f"teacher-{teachers[0]['id']}").click()
    for box in driver.find_elements(By.CSS_SELECTOR, "input[name=document_ids]"):
        box.click()
    type_into("service_plan-input", "每周三次课后训练，配备专职教练与安全员。")
    press("button[value=submit]")
    findings = driver.find_elements(By.CSS_SELECTOR, "#pledge_signed-findings .finding")
    verdict(bool(findings) and "依据" in findings[0].text,
            "the missing pledge is shown next to it with its rule")
    verdict(call("GET", f"/api/v1/applications/{application}", token)["status"] == "draft",
            "API: still a draft")
    axe_and_photos("application-blocked")
    driver.find_element(By.ID, "pledge_signed-input").click()
    press("button[value=submit]")
    verdict(driver.find_element(By.ID, "application-status").get_attribute("data-status")
            == "submitted", "the page shows it submitted, with its history")
    verdict(call("GET", f"/api/v1/applications/{application}", token)["status"] == "submitted",
            "API: submitted")
    axe_and_photos("application-submitted")
    open_page("/institution/applications")
    axe_and_photos("applications")
    open_page("/institution")
    axe_and_photos("overview")
    press("form.signout button[type=submit]")
    verdict("/sign-in" in driver.current_url, "signed out")
    axe_and_photos("sign-in")
finally:
    driver.quit()

if FAILURES:
    print(f"\n{len(FAILURES)} check(s) failed:")
    for f in FAILURES:
        print("  - " + f)
    sys.exit(1)
print("\nthe institution's workspace: every check passed")
