"""The institution's workspace in a real browser (headless Chromium through chromedriver).

A new institution registers (a refused first try shows the error next to its field), signs in
by registering, completes its profile, builds its roster, records its inspections, uploads the
merged PDF and the other documents, and applies: a submission without the integrity pledge is
blocked and shows the finding next to the pledge with its rule; with the pledge it is
submitted. Each step is also checked through the JSON API. Every page passes axe-core with no
serious or critical violation and is photographed at 375 and 1280 px (`ws-*.png`).

    python workspace_institution.py BASE_URL OUT_DIR AXE_JS MERGED_PDF
"""

import random
import sys
from datetime import date, timedelta

from selenium.webdriver.common.by import By

import kit
from kit import choose, press, type_into, uscc, resident_id

BASE, OUT, AXE_JS, PDF = sys.argv[1:5]
PASSWORD = "workspace-password-2026"
driver = kit.start(BASE, OUT, AXE_JS)
verdict = kit.check
open_page = kit.go
page_text = kit.text


def call(method, path, token, body=None):
    return kit.api(method, path, body, token)


def bearer(email):
    return kit.login(email, PASSWORD)


def axe_and_photos(name):
    kit.audit(f"ws-{name}", max_height=8000)


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
    kit.finish("institution pages")
