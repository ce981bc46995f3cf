"""What the browser scripts share: Debian's Chromium, headless, through chromedriver; axe-core
run in the page on screen; the phone and desktop screenshots; a click that waits for the next
page."""

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait


def start():
    """A headless Chromium asking for Chinese pages, 1280 × 900."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--lang=zh-CN", "--window-size=1280,900"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(30)
    return driver


def axe_violations(driver, axe_source):
    """axe-core's violations on the page on screen; prints the serious and critical ones and
    returns (serious or critical, all)."""
    driver.execute_script(axe_source)
    found = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))))"
        ".catch(e => done([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}]));")
    bad = [v for v in found if v["impact"] in ("serious", "critical")]
    for v in bad:
        print(f"      {v['impact']} {v['id']}: {v['help']} {v['nodes']}")
    return bad, found


def photograph(driver, prefix, max_height=6000):
    """`<prefix>-375.png` and `<prefix>-1280.png`, each the whole page (up to max_height)."""
    for width in (375, 1280):
        driver.set_window_size(width, 900)
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(width, min(max(height, 600), max_height))
        driver.save_screenshot(f"{prefix}-{width}.png")
    driver.set_window_size(1280, 900)


def follow(driver, element, timeout=20):
    """Clicks and waits for the next page to replace this one."""
    old = driver.find_element(By.TAG_NAME, "html")
    try:
        element.click()
    except WebDriverException as e:
        # chromedriver sometimes reports the navigation its own click started as an error
        # ("Node ... does not belong to the document"); the wait below decides.
        print(f"      (click reported: {e.msg})")
    WebDriverWait(driver, timeout).until(expected_conditions.staleness_of(old))
