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

from selenium.webdriver.common.by import By

import kit
from kit import choose, press, resident_id, type_into, uscc

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
    kit.fill_profile(n, "张三", "王经理")
    verdict("已保存" in page_text(), "the profile is saved")
    verdict(resident_id(n) not in driver.page_source, "the identity number is not shown")
    verdict(call("GET", "/api/v1/institutions/me", token)["district"] == "青秀区", "API: the profile")
    axe_and_photos("profile")

    print("== the roster")
    kit.add_teacher(n, "李老师")
    verdict("已添加教师" in page_text(), "the teacher is on the roster")
    teachers = call("GET", "/api/v1/institutions/me/teachers", token)
    verdict(len(teachers) == 1, "API: one teacher")
    axe_and_photos("teachers")

    print("== the annual inspections")
    kit.add_inspections()
    verdict(len(call("GET", "/api/v1/institutions/me/inspections", token)) == 2, "API: two inspections")
    axe_and_photos("inspections")

    print("== the uploads, the merged PDF among them")
    statuses = kit.upload_documents(PDF)
    verdict(len(statuses) == 8 and all(s == "ok" for s in statuses),
            f"eight uploads with their text extracted ({statuses})")
    axe_and_photos("documents")

    print("== the application: blocked without the pledge, then submitted")
    application = kit.apply_without_pledge(teachers[0]["id"], "每周三次课后训练，配备专职教练与安全员。")
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
