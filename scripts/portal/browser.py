"""The public portal in a real browser (headless Chromium through chromedriver / WebDriver).

A visitor finds an institution by category and by name, checks codes on /status (pooled,
invalid, and later banned), opens a notice, files an objection with an evidence file and sees
the confirmation; the reviewer then sees that objection through the JSON API; a form submitted
after the window closed shows the closed-window message. Every page visited passes axe-core
with no serious or critical violation, weighs under 60 KB transferred, and is photographed at
phone (375 px) and desktop (1280 px) width into the output directory.

    python browser.py BASE_URL OUT_DIR AXE_JS EVIDENCE_FILE
"""

import sys
from datetime import datetime, timedelta

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import kit
from kit import api, check, follow, go, login, submit, text

BASE, OUT, AXE_JS, EVIDENCE = sys.argv[1:5]
MAX_BYTES = 60 * 1024
driver = kit.start(BASE, OUT, AXE_JS)


def audit(name):
    kit.audit(name, MAX_BYTES)


try:
    print("== a visitor finds an institution by category and by name")
    go("/")
    check("课后服务第三方机构备选库" in driver.title, "the home page is in Chinese")
    audit("home")
    follow(driver.find_element(By.LINK_TEXT, "备选库名单"))
    Select(driver.find_element(By.ID, "category")).select_by_value("sports")
    submit("form.search")
    check("category=sports" in driver.current_url, "the category search is in the address")
    results = driver.find_elements(By.CSS_SELECTOR, "ul.list h3 a")
    check(len(results) > 0, f"the sports category lists institutions ({len(results)} on the page)")
    audit("pool-category")
    name = results[0].text
    box = driver.find_element(By.ID, "q")
    box.clear()
    box.send_keys(name[3:9])
    Select(driver.find_element(By.ID, "category")).select_by_value("")
    submit("form.search")
    names = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "ul.list h3 a")]
    check(name in names, f"searching by part of the name finds {name}")
    audit("pool-name")
    follow(driver.find_element(By.LINK_TEXT, name))
    check(driver.find_element(By.TAG_NAME, "h1").text == name, "the institution's page opens")
    pooled_uscc = driver.find_element(
        By.XPATH, "//dt[text()='统一社会信用代码']/following-sibling::dd[1]").text
    audit("pool-entry")

    print("== /status answers for a pooled and an invalid code")
    go("/status")
    driver.find_element(By.ID, "uscc").send_keys(pooled_uscc)
    submit("form.search")
    check("在备选库中" in text(), f"{pooled_uscc} is in the pool")
    audit("status-pooled")
    box = driver.find_element(By.ID, "uscc")
    box.clear()
    box.send_keys("91450100MA5L0000OI")
    submit("form.search")
    check("代码无效" in text(), "an invalid code is explained")
    audit("status-invalid")

    print("== a visitor opens a notice and files an objection with evidence")
    go("/notices")
    audit("notices")
    follow(driver.find_element(By.CSS_SELECTOR, "ul.list h2 a"))
    notice_id = int(driver.current_url.rstrip("/").split("/")[-1])
    check("公示期逐日说明" in text() and "第 5 个工作日" in text(),
          "the notice explains its window day by day")
    audit("notice")
    buttons = driver.find_elements(By.CSS_SELECTOR, "a.button[href*='/object?application=']")
    check(len(buttons) >= 2, f"each institution in the open notice has an objection form ({len(buttons)})")
    late_form = buttons[1].get_attribute("href")
    follow(buttons[0])
    audit("objection-form")
    driver.find_element(By.ID, "name").send_keys("周九")
    driver.find_element(By.ID, "mobile").send_keys("1391234567")
    driver.find_element(By.ID, "grounds").send_keys("公示的授课教师并未在该机构任教，与材料不符。")
    submit()
    check("手机号码" in driver.find_element(By.ID, "mobile-error").text,
          "a wrong mobile number is shown next to its field")
    audit("objection-errors")
    mobile = driver.find_element(By.ID, "mobile")
    mobile.clear()
    mobile.send_keys("13912345678")
    driver.find_element(By.ID, "evidence").send_keys(EVIDENCE)
    submit()
    check("异议已受理" in text(), "the confirmation is shown")
    receipt = int(driver.find_element(By.ID, "receipt-number").text)
    audit("objection-received")

    print("== the reviewer sees the objection through the JSON API")
    reviewer = login("reviewer@demo.local")
    listed = api("GET", f"/api/v1/objections?notice_id={notice_id}&per_page=100", token=reviewer)
    mine = [o for o in listed["items"] if o["id"] == receipt]
    check(len(mine) == 1 and mine[0]["objector_name"] == "周九"
          and mine[0]["objector_mobile"] == "13912345678"
          and mine[0]["evidence_document_id"] is not None,
          f"objection {receipt} with its evidence is in the reviewer's list")

    print("== a late objection shows the closed-window message")
    driver.get(late_form)
    driver.find_element(By.ID, "name").send_keys("吴十")
    driver.find_element(By.ID, "mobile").send_keys("13712345678")
    driver.find_element(By.ID, "grounds").send_keys("该机构在公示期间仍有学科类培训广告，请核查。")
    notice = api("GET", f"/api/v1/notices/{notice_id}")
    admin = login("admin@demo.local")
    cases = api("GET", "/api/v1/exit-cases?status=open", token=reviewer)["items"]
    instants = [notice["window"]["closes_at"]] + [c["statement_closes_at"] for c in cases]
    # Two seconds past the notice's closing and the exit case's statement deadline.
    later = max(datetime.fromisoformat(i.replace("Z", "+00:00")) for i in instants)
    api("PUT", "/api/v1/admin/clock", {"now": (later + timedelta(seconds=2)).isoformat()},
        token=admin)
    submit()
    check("公示期已结束，不再受理异议" in text(), "the form submitted after the window says it is closed")
    audit("objection-closed")

    print("== a removal shows on /bans and /status")
    reviewer = login("reviewer@demo.local")
    check(len(cases) > 0, "the demo has an open exit case")
    case = cases[0]
    api("POST", f"/api/v1/exit-cases/{case['id']}/decision",
        {"decision": "remove", "reasons": "经核查，机构将课后服务项目转包给其他机构。"}, token=reviewer)
    go("/bans")
    check(case["institution_name"] in text(), "the removed institution is on /bans")
    audit("bans")
    go("/status")
    driver.find_element(By.ID, "uscc").send_keys(case["uscc"])
    submit("form.search")
    check("处于禁入期" in text(), f"{case['uscc']} is banned")
    audit("status-banned")

    print("== English on request")
    go("/pool?lang=en")
    check("Whitelist" in driver.title, "?lang=en switches to English")
    go("/bans")
    check("Removals and bans" in driver.title, "the choice is remembered")
    audit("bans-en")
    go("/no/such/page?lang=zh")
    check("页面不存在" in text(), "an unknown address shows the 404 page in Chinese")
    audit("not-found")
finally:
    kit.finish("pages")
