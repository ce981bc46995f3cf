"""What the portal's browser scripts share: the JSON API client, the headless Chromium driver,
the checks list, and `audit` (axe-core, optionally the transfer size, screenshots at 375 and
1280 px).

    import kit
    kit.start(BASE_URL, OUT_DIR, AXE_JS)   # then kit.go, kit.follow, kit.audit, kit.check
    kit.finish("pages")                     # quits the browser, prints, exits 1 on a failure
"""

import json
import sys
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

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


def login(email):
    return api("POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD})["access_token"]


def check(condition, what):
    print(("   ok   " if condition else "   FAIL ") + what, flush=True)
    if not condition:
        FAILURES.append(what)


def audit(name, max_bytes=None):
    """axe-core (no serious or critical violation), the size transferred when `max_bytes` is
    given, and the two screenshots of the page on screen."""
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
        driver.set_window_size(width, min(max(height, 600), 6000))
        driver.save_screenshot(f"{OUT}/{name}-{width}.png")
    driver.set_window_size(1280, 900)


def go(path):
    driver.get(BASE + path)


def text():
    return driver.find_element(By.TAG_NAME, "body").text


def follow(element):
    """Clicks and waits for the next page to replace this one."""
    old = driver.find_element(By.TAG_NAME, "html")
    try:
        element.click()
    except WebDriverException as e:
        # chromedriver sometimes reports the navigation its own click started as an error
        # ("Node ... does not belong to the document"); the wait below decides.
        print(f"      (click reported: {e.msg})")
    WebDriverWait(driver, 20).until(lambda _: replaced(old))


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
