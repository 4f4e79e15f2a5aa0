"""The web page in a real headless Chromium (Selenium): sign in, submit (with the dry run's
problems by field first), watch the log grow, cancel, re-run, follow the job list live, upload
a file and search for it. Screenshots of each page go to $CONVEYOR_ARTIFACTS (default
.conveyor/artifacts/web). Run by deploy/local/web-test.sh against the running services."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GATEWAY = os.environ.get("CONVEYOR_GATEWAY_URL", "http://127.0.0.1:8080")
STATE = os.environ.get("CONVEYOR_STATE", os.path.join(ROOT, ".conveyor"))
ARTIFACTS = os.environ.get("CONVEYOR_ARTIFACTS", os.path.join(STATE, "artifacts", "web"))
ADMIN = open(os.path.join(STATE, "admin-token")).read().strip()


def api(method, path, body=None, token=ADMIN):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(GATEWAY + path, data=data, method=method)
    request.add_header("Authorization", "Bearer " + token)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def wait_for_job(job_id, token=ADMIN, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = api("GET", "/api/v1/jobs/" + job_id, token=token)
        if job["status"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return job
        time.sleep(0.2)
    raise AssertionError("job %s did not end" % job_id)


def import_model(repository, path, entry_point, token):
    """Imports a model as the page's user, who then owns it."""
    job = api("POST", "/api/v1/jobs", {
        "jobType": "IMPORT_MODEL",
        "importModel": {"repository": repository, "path": path, "entryPoint": entry_point, "language": "shell", "version": "v1.0"},
    }, token=token)
    job = wait_for_job(job["jobId"], token=token)
    assert job["status"] == "SUCCEEDED", job
    return job["result"]["objects"][0]["objectId"]


def model_repository():
    folder = tempfile.mkdtemp(prefix="conveyor-web-models-")
    shutil.rmtree(folder)
    shutil.copytree(os.path.join(ROOT, "examples"), folder)
    for arguments in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", "models"], ["tag", "v1.0"]):
        subprocess.run(["git", "-C", folder] + arguments, check=True)
    return folder


class Page:
    def __init__(self):
        options = Options()
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
            options.add_argument(argument)
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        self.driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
        self.wait = WebDriverWait(self.driver, 30)
        os.makedirs(ARTIFACTS, exist_ok=True)

    def shot(self, name):
        self.driver.save_screenshot(os.path.join(ARTIFACTS, name + ".png"))

    def find(self, selector):
        return self.wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, selector)))

    def visible(self, selector):
        return self.wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, selector)))

    def text_in(self, selector, text, timeout=30):
        WebDriverWait(self.driver, timeout).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, selector), text))

    def type(self, selector, text):
        field = self.visible(selector)
        field.clear()
        field.send_keys(text)

    def set_value(self, selector, text):
        field = self.visible(selector)
        self.driver.execute_script("arguments[0].value = arguments[1];", field, text)


def main():
    suffix = uuid.uuid4().hex[:6]
    user = "web-" + suffix
    token = api("POST", "/api/v1/tokens", {"principal": user, "label": "web page test", "expiresInDays": 1})["token"]
    repository = model_repository()
    ticker = import_model(repository, "ticker-model", "ticker.sh", token)
    page = Page()
    driver = page.driver
    try:
        # The page, its security headers, and the sign-in: a wrong token is refused, a right one accepted.
        driver.get(GATEWAY + "/")
        page.visible("#signin")
        page.shot("01-sign-in")
        page.type("#token", "cvy_not-a-real-token")
        page.find("#signin-form button").click()
        page.text_in("#signin-error", "not accepted")
        page.type("#token", token)
        page.find("#signin-form button").click()
        page.text_in("#who", user + " (user)")
        page.visible("#jobs")
        page.shot("02-jobs-empty")

        # Submit: the dry run shows every problem by field; then a job that logs as it runs.
        driver.get(GATEWAY + "/#/submit")
        page.visible("#submit")
        page.set_value("#job-json", json.dumps({"jobType": "RUN_MODEL", "priority": 500, "resources": {"cpus": 0},
                                                "runModel": {"model": {"objectId": ticker}}}))
        page.find("#job-validate").click()
        page.text_in("#submit-problems", "priority")
        page.text_in("#submit-problems", "resources.cpus")
        page.shot("03-submit-problems")
        page.type("#run-model", ticker)
        page.set_value("#run-params", json.dumps({"count": 40, "interval": 0.25}))
        page.find("#run-form button").click()
        page.find("#job-validate").click()
        page.text_in("#submit-result", "Valid")
        page.find("#job-submit").click()

        # The job page: its log grows while we watch; then cancel it.
        page.visible("#job")
        page.text_in("#job-log", "tick 3 of 40")
        first = driver.find_element(By.CSS_SELECTOR, "#job-log").text.count("tick")
        page.text_in("#job-log", "tick 8 of 40")
        later = driver.find_element(By.CSS_SELECTOR, "#job-log").text.count("tick")
        assert later > first, (first, later)
        job_id = driver.find_element(By.CSS_SELECTOR, "#job-id").text
        page.text_in("#job-status", "RUNNING")
        page.shot("04-job-log-growing")
        page.find("#job-cancel").click()
        page.text_in("#job-status", "CANCELLED")
        page.text_in("#job-history", "CANCELLED")
        page.shot("05-job-cancelled")

        # Re-run it: a new job page, which ends by itself this time? (40 ticks: cancel it too.)
        page.wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#job-rerun").is_enabled())
        page.find("#job-rerun").click()
        page.wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#job-id").text not in ("", job_id))
        rerun_id = driver.find_element(By.CSS_SELECTOR, "#job-id").text
        page.text_in("#job-log", "tick 1 of 40")
        page.shot("06-rerun")

        # The job list follows changes live: the re-run shows RUNNING, then CANCELLED without a reload.
        driver.get(GATEWAY + "/#/jobs")
        row = '#job-table tr[data-job="%s"] .status' % rerun_id
        page.text_in(row, "RUNNING")
        page.shot("07-jobs-live-running")
        api("POST", "/api/v1/jobs/%s/cancel" % rerun_id, {"reason": "from the test"}, token=token)
        page.text_in(row, "CANCELLED")
        page.text_in("#jobs-live", "CANCELLED")
        page.shot("08-jobs-live-cancelled")
        assert driver.find_elements(By.CSS_SELECTOR, '#job-table tr[data-job="%s"]' % job_id)

        # Objects: upload a file, then find it by searching.
        driver.get(GATEWAY + "/#/objects")
        page.visible("#objects")
        upload = os.path.join(tempfile.mkdtemp(), "notes-%s.txt" % suffix)
        with open(upload, "w") as handle:
            handle.write("written from the web page test\n")
        page.find("#upload-file").send_keys(upload)
        page.find("#upload-form button").click()
        page.visible("#uploaded")
        object_id = driver.find_element(By.CSS_SELECTOR, "#uploaded").text
        Select(page.find("#search-type")).select_by_visible_text("FILE")
        page.find("#search-form button").click()
        page.find('#object-table tr[data-object="%s"]' % object_id)
        # The rows' cells in one read (the table may be drawn again meanwhile): the upload names its
        # owner, and only what the user may read is listed (their own, shared with everyone, or
        # without an owner).
        rows = driver.execute_script(
            "return Array.from(document.querySelectorAll('#object-table tr[data-object]'))"
            ".map(r => [r.dataset.object].concat(Array.from(r.cells).map(c => c.textContent)))")
        mine = [cells for cells in rows if cells[0] == object_id]
        assert mine and mine[0][4] == user, "the upload's row names its owner: %r" % mine
        for cells in rows:
            assert cells[4] in (user, "-") or "everyone" in cells[5], "another owner's object is listed: %r" % cells
        page.shot("09-objects")

        # Readable on a phone: the same page in a narrow window.
        driver.set_window_size(390, 844)
        driver.get(GATEWAY + "/#/jobs")
        page.visible("#job-table")
        page.shot("10-phone")
        print("web page test: passed (%s, screenshots in %s)" % (user, ARTIFACTS))
    except Exception:
        page.shot("failure")
        print(driver.page_source[:4000], file=sys.stderr)
        raise
    finally:
        driver.quit()
        shutil.rmtree(repository, ignore_errors=True)


if __name__ == "__main__":
    main()
