"""What every browser script of the portal shares: Debian's Chromium, headless, through
chromedriver; the JSON API client; the checks list; `audit` (axe-core run in the page on
screen, optionally the transfer size, screenshots at 375 and 1280 px); a click that waits for
the next page; form helpers; valid credit codes and identity numbers for new accounts.

    import kit
    kit.start(BASE_URL, OUT_DIR, AXE_JS)   # then kit.go, kit.follow, kit.audit, kit.check
    kit.finish("pages")                     # quits the browser, prints, exits 1 on a failure
"""

import json
import sys
import urllib.request
from datetime import date, timedelta

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

PASSWORD = "demo-password-2026"
FAILURES = []
PAGES = []
BASE = OUT = AXE = None
driver = None


def start(base, out, axe_js):
    """Opens headless Chromium (Chinese first) for pages of `base`."""
    global BASE, OUT, AXE, driver
    BASE, OUT = base, out
    with open(axe_js, encoding="utf-8") as f:
        AXE = f.read()
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--lang=zh-CN", "--window-size=1280,900"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(30)
    return driver


def api(method, path, body=None, token=None):
    """The JSON API; raises urllib.error.HTTPError on a refusal."""
    req = urllib.request.Request(BASE + path, method=method)
    req.add_header("Accept", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, data) as res:
        return json.loads(res.read() or b"null")


def login(email, password=PASSWORD):
    return api("POST", "/api/v1/auth/login", {"email": email, "password": password})["access_token"]


def check(condition, what):
    print(("   ok   " if condition else "   FAIL ") + what, flush=True)
    if not condition:
        FAILURES.append(what)


def audit(name, max_bytes=None, max_height=6000):
    """axe-core (no serious or critical violation), the size transferred when `max_bytes` is
    given, and the two screenshots of the page on screen (`<name>-375.png`, `<name>-1280.png`,
    each the whole page up to `max_height` px)."""
    PAGES.append(name)
    driver.execute_script(AXE)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))"
        ".catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));")
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    for v in bad:
        print(f"      {v['impact']} {v['id']}: {v['help']} {v['nodes']}")
    check(not bad, f"{name}: axe-core finds no serious or critical violation ({len(result)} minor)")
    if max_bytes is not None:
        size = driver.execute_script(
            "const n = performance.getEntriesByType('navigation')[0];"
            "return n ? Math.max(n.transferSize, n.encodedBodySize) : -1;")
        check(0 <= size < max_bytes, f"{name}: {size} bytes transferred (< {max_bytes // 1024} KB)")
    for width in (375, 1280):
        driver.set_window_size(width, 900)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, min(max(height, 600), max_height))
        driver.save_screenshot(f"{OUT}/{name}-{width}.png")
    driver.set_window_size(1280, 900)


def go(path):
    driver.get(BASE + path)


def text():
    return driver.find_element(By.TAG_NAME, "body").text


def follow(element, timeout=20):
    """Clicks and waits for the next page to replace this one."""
    old = driver.find_element(By.TAG_NAME, "html")
    try:
        element.click()
    except WebDriverException as e:
        # chromedriver sometimes reports the navigation its own click started as an error
        # ("Node ... does not belong to the document"); the wait below decides.
        print(f"      (click reported: {e.msg})")
    WebDriverWait(driver, timeout).until(lambda _: replaced(old))


def replaced(element):
    """Whether `element` left the document. chromedriver answers a node of a page being
    replaced either as stale or with "Node with given id does not belong to the document":
    both mean the navigation happened."""
    try:
        element.is_enabled()
        return False
    except WebDriverException:
        return True


def submit(form_selector="form"):
    follow(driver.find_element(By.CSS_SELECTOR, form_selector + " button[type=submit]"))


def press(selector, timeout=30):
    """Clicks the button `selector` (CSS) and waits for the next page."""
    follow(driver.find_element(By.CSS_SELECTOR, selector), timeout)


def type_into(field_id, value):
    element = driver.find_element(By.ID, field_id)
    element.clear()
    element.send_keys(value)


def choose(field_id, value):
    Select(driver.find_element(By.ID, field_id)).select_by_value(value)


def set_date(field_id, value):
    """A date input's value (`YYYY-MM-DD`), whatever the browser's date picker expects typed."""
    driver.execute_script(f"document.getElementById('{field_id}').value = '{value}'")


# ---- the institution's file, through its workspace pages ---------------------------------------

DOCUMENT_KINDS = ("registration_certificate", "uscc_certificate", "legal_rep_id",
                  "teacher_certificate", "inspection_record", "service_plan", "integrity_pledge",
                  "merged_pdf")


def fill_profile(n, legal_rep, contact):
    """Completes the profile on /institution/profile (the page on screen) and saves it."""
    choose("registration_kind", "private_non_enterprise_certificate")
    type_into("registration_number", f"民证字第{n}号")
    type_into("issuing_authority", "南宁市民政局")
    choose("authority_level", "city")
    type_into("registered_address", "南宁市青秀区民族大道100号")
    type_into("district", "青秀区")
    type_into("legal_rep_name", legal_rep)
    choose("legal_rep_id_kind", "resident_id")
    type_into("legal_rep_id_number", resident_id(n))
    type_into("contact_person", contact)
    type_into("contact_mobile", "13800771234")
    press("main form button[type=submit]")


def add_teacher(n, name):
    """A basketball teacher with a teacher's qualification and a clean record check."""
    go("/institution/teachers")
    type_into("name", name)
    choose("id_kind", "resident_id")
    type_into("id_number", resident_id(n + 1))
    choose("speciality", "sports.basketball")
    choose("credential_kind", "teacher_qualification")
    type_into("credential_number", f"2015450021{n % 10000000:07d}")
    type_into("credential_issuer", "南宁市教育局")
    set_date("credential_issued_on", "2015-07-01")
    set_date("check_date", (date.today() - timedelta(days=30)).isoformat())
    choose("check_result", "clean")
    type_into("check_issuer", "南宁市公安局青秀分局")
    press("main form button[type=submit]")


def add_inspections():
    """Passed inspections of the two years before this one."""
    year = date.today().year
    for y in (year - 2, year - 1):
        go("/institution/inspections")
        type_into("year", str(y))
        choose("result", "passed")
        type_into("authority", "南宁市民政局")
        press("main form button[type=submit]")


def upload_documents(pdf):
    """Uploads `pdf` as every kind an application needs, the merged PDF last; returns the
    extraction status of each upload listed."""
    for kind in DOCUMENT_KINDS:
        go("/institution/documents")
        choose("kind", kind)
        driver.find_element(By.ID, "file").send_keys(pdf)
        press("main form button[type=submit]")
    return [e.get_attribute("data-status")
            for e in driver.find_elements(By.CSS_SELECTOR, "td.text-status")]


def apply_without_pledge(teacher_id, plan):
    """A basketball application with the teacher, every upload and `plan`, submitted without
    the integrity pledge (so blocked); returns its id."""
    go("/institution/applications/new")
    driver.find_element(By.ID, "item-sports.basketball").click()
    press("main form button[type=submit]")
    application = int(driver.current_url.rstrip("/").split("/")[-1])
    driver.find_element(By.ID, f"teacher-{teacher_id}").click()
    for box in driver.find_elements(By.CSS_SELECTOR, "input[name=document_ids]"):
        box.click()
    type_into("service_plan-input", plan)
    press("button[value=submit]")
    return application


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


def finish(what):
    """Quits the browser, prints the summary; exits 1 if a check failed."""
    if driver is not None:
        driver.quit()
    print(f"\n{len(PAGES)} {what} checked, screenshots in {OUT}")
    if FAILURES:
        print(f"{len(FAILURES)} FAILED:")
        for f in FAILURES:
            print("  - " + f)
        sys.exit(1)
