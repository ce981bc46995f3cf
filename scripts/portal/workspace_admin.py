"""The admin's workspace and the reviewer's remaining pages in a real browser (headless
Chromium through chromedriver).

Against the demo (run by run.sh after the other scripts, on the same server): the admin signs
in, adds a school and a school account for it (a weak password refused next to its field
first), opens a round and closes it, previews a calendar year that moves an open notice's
window (the page shows old → new, the API shows nothing changed), loads it (the API shows the
new window), retries a dead job if there is one (else sees the empty list), and verifies the
audit chain; then the reviewer opens an exit case from an admitted institution's dossier (two
grounds, facts, a PDF as evidence) and imports a blacklist file with one bad line (the report
names the line, nothing imported), then a good one. Every step's effect is asserted through
the JSON API; every page passes axe-core with no serious or critical violation and is
photographed at 375 and 1280 px.

    python workspace_admin.py BASE_URL OUT_DIR AXE_JS FIXTURES_DIR
"""

import datetime
import json
import os
import shutil
import sys
import tempfile
import urllib.parse

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import kit
from kit import PASSWORD, api, audit, check, follow, go, login, text

BASE, OUT, AXE_JS, FIXTURES = sys.argv[1:5]
driver = kit.start(BASE, OUT, AXE_JS)
TMP = tempfile.mkdtemp(prefix="workspace-admin-")

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def uscc(body17):
    """A unified social credit code with its check character (GB 32100-2015)."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(body17, USCC_WEIGHTS))
    return body17 + USCC_CHARS[(31 - total % 31) % 31]


def sign_in(email, path):
    go(path)
    check("/sign-in" in driver.current_url, f"{path} asks to sign in")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    follow(driver.find_element(By.CSS_SELECTOR, "form[action='/sign-in'] button[type=submit]"))


def sign_out():
    follow(driver.find_element(By.CSS_SELECTOR, "form.signout button[type=submit]"))


def submit_form_of(element_id):
    form = driver.find_element(By.ID, element_id).find_element(By.XPATH, "./ancestor::form")
    follow(form.find_element(By.CSS_SELECTOR, "button[type=submit]"))


def set_value(element_id, value):
    """Sets an input's value directly (date and time inputs take typed keys by locale)."""
    driver.execute_script("arguments[0].value = arguments[1]",
                          driver.find_element(By.ID, element_id), value)


def fill(element_id, value):
    el = driver.find_element(By.ID, element_id)
    el.clear()
    el.send_keys(value)


def write(name, content):
    path = os.path.join(TMP, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(content)
    return path


try:
    admin = login("admin@demo.local")
    stamp = datetime.datetime.now().strftime("%H%M%S")

    print("== the admin signs in; a school and its account")
    sign_in("admin@demo.local", "/admin")
    check(driver.current_url.endswith("/admin"), "signing in returns to the accounts page")
    check(driver.find_element(By.TAG_NAME, "h1").text == "账号管理", "the accounts page is in Chinese")
    audit("admin-accounts")
    follow(driver.find_element(By.LINK_TEXT, "学校"))
    audit("admin-schools")
    school_name = f"青秀区测试小学{stamp}"
    fill("name", school_name)
    fill("code", f"45010{stamp}")
    fill("district", "青秀区")
    submit_form_of("name")
    check("已添加学校" in text(), "the school is added")
    schools = api("GET", "/api/v1/admin/schools", token=admin)
    school = [s for s in schools if s["name"] == school_name]
    check(len(school) == 1, "the API lists the school")
    follow(driver.find_element(By.LINK_TEXT, "账号"))
    email = f"school{stamp}@demo.local"
    fill("email", email)
    fill("display_name", "测试学校 王老师")
    Select(driver.find_element(By.ID, "role")).select_by_value("school")
    Select(driver.find_element(By.ID, "school_id")).select_by_value(str(school[0]["id"]))
    fill("password", "short")
    submit_form_of("email")
    error = driver.find_elements(By.ID, "password-error")
    check(len(error) == 1, "a weak password is refused next to its field")
    check(driver.find_element(By.ID, "email").get_attribute("value") == email,
          "the e-mail typed is kept")
    audit("admin-accounts-errors")
    fill("password", "Qingxiu-School-2026!")
    submit_form_of("email")
    check("已创建账号" in text(), "the account is created")
    users = api("GET", "/api/v1/admin/users?role=school&per_page=100", token=admin)["items"]
    mine = [u for u in users if u["email"] == email]
    check(len(mine) == 1 and mine[0]["school"]["id"] == school[0]["id"],
          "the API shows the school account of that school")

    print("== a round opened, then closed")
    follow(driver.find_element(By.LINK_TEXT, "遴选批次"))
    audit("admin-rounds")
    round_name = f"测试批次 {stamp}"
    fill("name", round_name)
    set_value("opens_at", "2020-01-01T09:00")
    set_value("closes_at", "2099-12-31T17:00")
    set_value("pool_valid_from", "2027-09-01")
    set_value("pool_valid_until", "2029-08-31")
    submit_form_of("name")
    check("已开设遴选批次" in text(), "the round is opened")
    rounds = [r for r in api("GET", "/api/v1/rounds") if r["name"] == round_name]
    check(len(rounds) == 1 and rounds[0]["open_now"], "the API shows the round open")
    round_id = rounds[0]["id"]
    follow(driver.find_element(By.CSS_SELECTOR, f"#round-{round_id} form button[type=submit]"))
    check("已关闭遴选批次" in text(), "the round is closed")
    rounds = [r for r in api("GET", "/api/v1/rounds") if r["id"] == round_id]
    check(not rounds[0]["open_now"], "the API shows the round closed")
    audit("admin-rounds-closed")

    print("== a calendar year previewed, then loaded: an open notice's window moves")
    notices = api("GET", "/api/v1/notices?per_page=100")["items"]
    open_notices = [n for n in notices if n["status"] == "open"]
    check(len(open_notices) > 0, "the demo has an open notice")
    notice = open_notices[0]
    ends_on = notice["window"]["ends_on"]
    year = int(ends_on[:4])
    with open(os.path.join(FIXTURES, "calendar", f"{year}.json"), encoding="utf-8") as f:
        calendar = json.load(f)
    # The last day of the window becomes a day off: the window ends a working day later.
    calendar["holidays"].append({"name": "临时调整（测试）", "from": ends_on, "to": ends_on})
    calendar["holidays"].sort(key=lambda h: h["from"])
    path = write(f"{year}.json", json.dumps(calendar, ensure_ascii=False))
    follow(driver.find_element(By.LINK_TEXT, "工作日日历"))
    audit("admin-calendar")
    fill("year", str(year))
    driver.find_element(By.ID, "file").send_keys(path)
    submit_form_of("year")
    rows = driver.find_elements(By.ID, f"change-{notice['id']}")
    check(len(rows) == 1, "the preview lists the open notice")
    row = rows[0].text if rows else ""
    check(ends_on in row and "有变化" in row, f"old → new window shown ({row!r})")
    check("尚未保存" in text(), "the preview says nothing is saved yet")
    after = api("GET", f"/api/v1/notices/{notice['id']}")
    check(after["window"]["ends_on"] == ends_on, "the API shows the window unchanged")
    version = api("GET", f"/api/v1/calendar/{year}")["version"]
    audit("admin-calendar-preview")
    follow(driver.find_element(By.CSS_SELECTOR, "form[action='/admin/calendar'] button[type=submit]"))
    check(f"已保存 {year} 年日历" in text(), "the year is saved")
    after = api("GET", f"/api/v1/notices/{notice['id']}")
    check(after["window"]["ends_on"] > ends_on,
          f"the API shows the new window ({ends_on} → {after['window']['ends_on']})")
    check(api("GET", f"/api/v1/calendar/{year}")["version"] == version + 1,
          "the calendar's version moved on")
    audit("admin-calendar-saved")

    print("== dead jobs")
    follow(driver.find_element(By.LINK_TEXT, "失败任务"))
    dead = api("GET", "/api/v1/admin/jobs?state=dead", token=admin)
    if dead["total"] > 0:
        job = dead["items"][0]["id"]
        audit("admin-jobs")
        follow(driver.find_element(By.CSS_SELECTOR, f"#job-{job} form button[type=submit]"))
        check("已重新排队" in text(), f"job {job} is queued again")
        states = api("GET", "/api/v1/admin/jobs?state=dead", token=admin)["items"]
        check(all(j["id"] != job for j in states), "the API no longer lists it dead")
    else:
        check(len(driver.find_elements(By.ID, "no-jobs")) == 1,
              "no dead job in the demo: the page says so")
        audit("admin-jobs")

    print("== the audit chain verified")
    follow(driver.find_element(By.LINK_TEXT, "审计校验"))
    follow(driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
    check("审计链完整" in text(), "the page shows the chain intact")
    check(api("GET", "/api/v1/audit/verify", token=admin)["ok"], "the API agrees")
    audit("admin-audit")
    go("/admin?lang=en")
    check(driver.find_element(By.TAG_NAME, "h1").text == "Accounts", "?lang=en")
    audit("admin-accounts-en")
    go("/admin?lang=zh")
    sign_out()

    print("== the reviewer opens an exit case from an admitted institution's dossier")
    reviewer = login("reviewer@demo.local")
    admitted = api("GET", "/api/v1/applications?status=admitted&per_page=100", token=reviewer)
    cases = api("GET", "/api/v1/exit-cases?per_page=100", token=reviewer)["items"]
    in_case = {c["institution_id"] for c in cases if c["status"] == "open"}
    target = [a for a in admitted["items"] if a["institution_id"] not in in_case][0]
    sign_in("reviewer@demo.local", f"/review/applications/{target['id']}")
    follow(driver.find_element(By.ID, "open-exit-case"))
    check(target["institution_name"] in driver.find_element(By.TAG_NAME, "h1").text,
          "the exit case form names the institution")
    audit("review-exit-new")
    fill("statement", "经督查，该机构将篮球课程转包给无资质的个人，服务内容与约定明显不符。")
    submit_form_of("statement")
    check(len(driver.find_elements(By.ID, "grounds-error")) == 1,
          "without a ground the form is refused next to the grounds")
    check("转包给无资质的个人" in driver.find_element(By.ID, "statement").get_attribute("value"),
          "the facts typed are kept")
    audit("review-exit-new-errors")
    driver.find_element(By.ID, "ground-subcontracting").click()
    driver.find_element(By.ID, "ground-service_mismatch").click()
    driver.find_element(By.ID, "evidence").send_keys(os.path.join(FIXTURES, "pdf", "chromium.pdf"))
    submit_form_of("statement")
    check("/review/exit-cases/" in driver.current_url and "已立案" in text(),
          "the case opens on its page")
    case_id = int(driver.current_url.rstrip("/").split("/")[-1])
    case = api("GET", f"/api/v1/exit-cases/{case_id}", token=reviewer)
    codes = sorted(g["ground"]["code"] for g in case["grounds"])
    check(case["institution_id"] == target["institution_id"]
          and codes == ["service_mismatch", "subcontracting"]
          and all(g["document_ids"] for g in case["grounds"]),
          f"the API shows the case with both grounds and the evidence ({codes})")
    audit("review-exit-opened")

    print("== a blacklist file: one bad line reported, then a good file imported")
    follow(driver.find_element(By.LINK_TEXT, "导入黑名单"))
    source = f"测试来源{stamp}"
    good_line = f"{uscc('91450100MA5L' + stamp[:5])},某失信机构,{source},2026-02-01,严重违法失信"
    bad = write("bad.csv", "uscc,name,source,listed_on,reason\n" + good_line
                + f"\n91450100MA5L0000OI,某机构,{source},2026-13-01,严重违法失信\n")
    fill("blacklist-source", source)
    driver.find_element(By.ID, "blacklist-file").send_keys(bad)
    submit_form_of("blacklist-source")
    lines = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "ol.lines li")]
    check(len(lines) >= 1 and all(line.startswith("第 3 行") for line in lines),
          f"only the bad line is reported ({lines})")
    listed = api("GET", f"/api/v1/blacklist?per_page=100&source={urllib.parse.quote(source)}", token=reviewer)["items"]
    check(all(e["source"] != source for e in listed), "nothing was imported")
    audit("review-blacklist-file-errors")
    good = write("good.csv", "uscc,name,source,listed_on,reason\n" + good_line + "\n")
    fill("blacklist-source", source)
    driver.find_element(By.ID, "blacklist-file").send_keys(good)
    submit_form_of("blacklist-source")
    check("已导入" in text(), "the good file is imported")
    listed = api("GET", f"/api/v1/blacklist?per_page=100&source={urllib.parse.quote(source)}", token=reviewer)["items"]
    check(len([e for e in listed if e["source"] == source]) == 1, "the API lists the entry")
    audit("review-blacklist-file-imported")
finally:
    shutil.rmtree(TMP, ignore_errors=True)
    kit.finish("admin and reviewer pages")
