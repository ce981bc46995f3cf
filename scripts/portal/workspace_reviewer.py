"""The reviewer's workspace in a real browser (headless Chromium through chromedriver).

Against the demo (run by run.sh after browser.py, on the same server): the reviewer signs in,
opens the work queue and filters it, opens the dossier of a demo institution's submitted
application, returns it for correction with a deadline (an empty reason first: the error shows
next to its field); the institution resubmits through the JSON API; the reviewer approves it
and publishes a notice for it; a visitor objects through the API and the reviewer dismisses the
objection in the dossier; an exit case's page opens; a malformed blacklist is reported line by line. Every step's effect is asserted through the JSON API; every page
passes axe-core with no serious or critical violation and is photographed at 375 and 1280 px.

    python workspace_reviewer.py BASE_URL OUT_DIR AXE_JS
"""

import sys

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

import kit
from kit import PASSWORD, api, audit, check, follow, go, login, text

BASE, OUT, AXE_JS = sys.argv[1:4]
INSTITUTION = "lvyin@demo.local"
driver = kit.start(BASE, OUT, AXE_JS)


def submit_form_of(element_id):
    """Submits the form that holds the element `element_id`."""
    form = driver.find_element(By.ID, element_id).find_element(By.XPATH, "./ancestor::form")
    follow(form.find_element(By.CSS_SELECTOR, "button[type=submit]"))


def status_of(application_id, token):
    return api("GET", f"/api/v1/applications/{application_id}", token=token)["status"]


try:
    institution = login(INSTITUTION)
    mine = api("GET", "/api/v1/applications", token=institution)["items"]
    submitted = [a for a in mine if a["status"] == "submitted"]
    check(len(submitted) == 1, f"{INSTITUTION} has a submitted application in the demo")
    app = submitted[0]
    app_id, name = app["id"], app["institution_name"]
    reviewer = login("reviewer@demo.local")

    print("== the reviewer signs in and opens the work queue")
    go("/review")
    check("/sign-in" in driver.current_url, "without a session the queue asks to sign in")
    driver.find_element(By.ID, "email").send_keys("reviewer@demo.local")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    follow(driver.find_element(By.CSS_SELECTOR, "form[action='/sign-in'] button[type=submit]"))
    check(driver.current_url.endswith("/review"), "signing in returns to the queue")
    check(driver.find_element(By.TAG_NAME, "h1").text == "审核待办队列", "the queue is in Chinese")
    check(name in text(), f"{name} is in the queue")
    audit("review-queue")
    Select(driver.find_element(By.ID, "kind")).select_by_value("awaiting_review")
    follow(driver.find_element(By.CSS_SELECTOR, "form.search button[type=submit]"))
    check("kind=awaiting_review" in driver.current_url, "the filter is in the address")
    kinds = {td.text for td in driver.find_elements(By.CSS_SELECTOR, "tbody tr td:nth-child(2)")}
    check(kinds == {"待审核申报"}, f"only submitted applications are listed ({kinds})")
    audit("review-queue-filtered")

    print("== the dossier, and a return for correction")
    follow(driver.find_element(By.CSS_SELECTOR, f"a[href='/review/applications/{app_id}']"))
    check(name in driver.find_element(By.TAG_NAME, "h1").text, "the dossier opens")
    pdf = driver.find_elements(By.CSS_SELECTOR, "object[type='application/pdf']")
    check(len(pdf) == 1, "the merged PDF is embedded beside the findings")
    check("核查结果" in text() and "换壳重新申报核查" in text(), "findings and re-registration flags")
    check("********" in text(), "identity numbers are masked")
    audit("review-dossier")
    submit_form_of("return-reasons")
    error = driver.find_elements(By.ID, "return-reasons-error")
    check(len(error) == 1 and "请填写理由" in error[0].text,
          "a return without reasons is refused next to the field")
    check(status_of(app_id, reviewer) == "submitted", "nothing changed")
    audit("review-dossier-errors")
    driver.find_element(By.ID, "return-reasons").send_keys("请补充教练员的社会体育指导员证书（二级及以上）。")
    days = driver.find_element(By.ID, "return-deadline_working_days")
    days.clear()
    days.send_keys("3")
    submit_form_of("return-reasons")
    check("已退回补正" in text(), "the dossier confirms the return")
    returned = api("GET", f"/api/v1/applications/{app_id}", token=reviewer)
    check(returned["status"] == "returned" and returned["return_deadline"] is not None,
          f"the API shows it returned, deadline {returned['return_deadline']}")
    audit("review-returned")

    print("== the institution resubmits; the reviewer approves and publishes a notice")
    api("POST", f"/api/v1/applications/{app_id}/submit", token=institution)
    check(status_of(app_id, reviewer) == "submitted", "resubmitted through the API")
    go(f"/review/applications/{app_id}")
    submit_form_of("approve-note")
    check("已审核通过" in text(), "the dossier confirms the approval")
    approved = api("GET", f"/api/v1/applications/{app_id}", token=reviewer)
    check(approved["status"] == "approved"
          and [i["code"] for i in approved["approved_items"]]
          == [i["code"] for i in approved["proposed_items"]],
          "the API shows it approved for the items ticked")
    follow(driver.find_element(By.LINK_TEXT, "发布公示"))
    boxes = driver.find_elements(By.CSS_SELECTOR, "input[name=application_ids]")
    check(any(b.get_attribute("value") == str(app_id) for b in boxes),
          "the approved application is offered for a notice")
    for box in boxes:
        if box.get_attribute("value") != str(app_id) and box.is_selected():
            box.click()
    audit("review-notice-new")
    submit_form_of("notice-publication_date")
    check("/notices/" in driver.current_url and name in text(), "the notice is published")
    notice_id = int(driver.current_url.rstrip("/").split("/")[-1])
    check(status_of(app_id, reviewer) == "in_notice", "the API shows it in the notice")

    print("== a visitor objects; the reviewer dismisses the objection")
    receipt = api("POST", f"/api/v1/notices/{notice_id}/objections", {
        "application_id": app_id, "name": "郑十一", "mobile": "13612345678",
        "grounds": "该机构的篮球教练并未在该机构任教，与公示材料不符。"})
    objection = receipt["id"]
    go(f"/review/applications/{app_id}")
    check(len(driver.find_elements(By.ID, f"objection-{objection}")) == 1,
          "the objection is in the dossier")
    audit("review-dossier-objection")
    driver.find_element(
        By.CSS_SELECTOR, f"#objection-{objection} input[name=outcome][value=dismissed]").click()
    driver.find_element(By.ID, f"objection-{objection}-reasons").send_keys(
        "经核查，该教练与机构签有劳动合同，异议不成立。")
    submit_form_of(f"objection-{objection}-reasons")
    check("异议已驳回" in text(), "the dossier confirms the dismissal")
    listed = api("GET", f"/api/v1/objections?application_id={app_id}", token=reviewer)["items"]
    check([o["status"] for o in listed if o["id"] == objection] == ["dismissed"],
          "the API shows the objection dismissed")
    audit("review-objection-dismissed")

    print("== an exit case (the demo's, decided by the visitor's script) has its page")
    cases = api("GET", "/api/v1/exit-cases", token=reviewer)["items"]
    check(len(cases) > 0, "the demo has an exit case")
    go(f"/review/exit-cases/{cases[0]['id']}")
    check(cases[0]["institution_name"] in driver.find_element(By.TAG_NAME, "h1").text,
          "the exit case page opens")
    audit("review-exit-case")

    print("== a malformed blacklist is reported line by line")
    follow(driver.find_element(By.LINK_TEXT, "导入黑名单"))
    audit("review-blacklist")
    driver.find_element(By.ID, "blacklist-source").send_keys("market")
    csv = driver.find_element(By.ID, "blacklist-csv")
    csv.send_keys("\n91450100MA5L0000OI,某机构,market,2026-13-01,严重违法失信")
    submit_form_of("blacklist-csv")
    lines = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "ol.lines li")]
    check(len(lines) >= 1 and all(line.startswith("第 2 行") for line in lines),
          f"each problem names its line ({len(lines)})")
    audit("review-blacklist-errors")

    print("== English on request")
    go("/review?lang=en")
    check(driver.find_element(By.TAG_NAME, "h1").text == "Review work queue", "?lang=en")
    audit("review-queue-en")
    go("/review?lang=zh")
finally:
    kit.finish("reviewer pages")
