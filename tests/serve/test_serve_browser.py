"""`tokenscan serve` in a real browser: headless Chromium driven by Selenium against the real server on
127.0.0.1, over a datastore a real audit built. A person finds the live secret first, filters, opens a
secret, triages two at once, and the CLI agrees. Every request the browser made is checked to have gone to
this server. Screenshots of the page are saved when a test fails (the path is printed)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from clirun import tokenscan

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="no browser: chromium and chromium-driver are not "
                                "installed (apt-get install chromium chromium-driver; .ci/run does)")


@pytest.fixture()
def browser(request, tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-default-apps", "--disable-extensions", f"--user-data-dir={tmp_path / 'profile'}",
                "--window-size=1400,1000"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(DRIVER))
    driver.set_page_load_timeout(30)
    yield driver
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        shots = Path(request.config.rootpath) / "tests" / "serve" / "screenshots"
        shots.mkdir(exist_ok=True)
        name = shots / f"{request.node.name}.png"
        driver.save_screenshot(str(name))
        print(f"screenshot of the failing page: {name}")
    driver.quit()


def requested_urls(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if url.split(":", 1)[0] in ("http", "https", "ws", "wss"):  # not chrome:// (the browser's own pages)
                urls.append(url)
    return urls


def submit(driver, element) -> None:
    """Click something that loads a new page, and wait until the new page is there."""
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element("tag name", "html")
    element.click()
    WebDriverWait(driver, 20).until(ec.staleness_of(old))


def findings(datastore: Path) -> dict:
    doc = json.loads(tokenscan("findings", "--datastore", str(datastore), "--format", "json").stdout)
    return {f["fingerprint"]: f for f in doc["findings"]}


def test_a_person_triages_in_the_browser_and_the_cli_agrees(audited, tmp_path, browser):
    from conftest import Server
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    ds = tmp_path / "ds.db"
    shutil.copy(audited.datastore, ds)
    s = Server(["--datastore", str(ds)])
    try:
        browser.get(s.base + "/")
        rows = browser.find_elements(By.CSS_SELECTOR, "tr.row")
        assert len(rows) == 4
        assert rows[0].get_attribute("data-verification") == "live"  # the live secret first
        for secret in audited.secrets.values():
            assert secret not in browser.page_source

        # filter by repository: only the secrets in "website"
        website = str(audited.repos["website"].resolve())
        Select(browser.find_element(By.NAME, "repository")).select_by_value(website)
        submit(browser, browser.find_element(By.ID, "apply"))
        shown = browser.find_elements(By.CSS_SELECTOR, "tr.row")
        assert len(shown) == 2 and "repository=" in browser.current_url

        # open the secret shared by two repositories: every place, what to do, no history yet
        shared = next(r for r in shown if "cloudflare" in r.text and "2 repositories" in r.text)
        shared_fp = shared.get_attribute("data-fingerprint")
        submit(browser, shared.find_element(By.CSS_SELECTOR, "a.open"))
        places = browser.find_elements(By.CSS_SELECTOR, "tr.place")
        assert len(places) == 2
        assert {p.find_elements(By.TAG_NAME, "td")[0].text for p in places} == {
            website, str(audited.repos["payments"].resolve())}
        assert browser.find_element(By.ID, "advice").text.strip()
        assert "no decisions yet" in browser.page_source

        # triage two secrets at once from the list
        browser.get(s.base + "/")
        rows = browser.find_elements(By.CSS_SELECTOR, "tr.row")
        chosen = [r.get_attribute("data-fingerprint") for r in rows[1:3]]
        for r in rows[1:3]:
            r.find_element(By.CSS_SELECTOR, "input.pick").click()
        Select(browser.find_element(By.ID, "bulk-status")).select_by_value("revoked")
        browser.find_element(By.ID, "bulk-note").send_keys("rotated on 2026-12-07")
        submit(browser, browser.find_element(By.ID, "bulk-apply"))
        assert "2 secrets marked revoked" in browser.find_element(By.CSS_SELECTOR, ".flash-ok").text

        # and one more from its own page
        browser.get(f"{s.base}/secret/{shared_fp[:16]}")
        Select(browser.find_element(By.ID, "decide-status")).select_by_value("accepted-risk")
        submit(browser, browser.find_element(By.ID, "decide-apply"))
        assert browser.find_element(By.ID, "status").text == "accepted-risk" or shared_fp in chosen
        history = browser.find_elements(By.CSS_SELECTOR, "table.history tbody tr")
        assert history and "alice" in history[0].text

        urls = requested_urls(browser)
        assert urls and all(u.startswith(s.base + "/") for u in urls), [u for u in urls if not u.startswith(s.base)]
    finally:
        log = s.stop()
    after = findings(ds)
    for fp in chosen:
        if fp != shared_fp:
            assert after[fp]["status"] == "revoked" and after[fp]["note"] == "rotated on 2026-12-07"
    assert after[shared_fp]["status"] == "accepted-risk"
    for secret in audited.secrets.values():
        assert secret not in log


def test_the_select_all_box_and_an_empty_filter(audited, tmp_path, browser):
    from conftest import Server
    from selenium.webdriver.common.by import By

    s = Server(["--datastore", str(audited.datastore)])
    try:
        browser.get(s.base + "/?status=fixed")
        assert "no secrets match" in browser.page_source
        browser.get(s.base + "/")
        browser.find_element(By.ID, "select-all").click()  # the page's one script ran under its CSP
        boxes = browser.find_elements(By.CSS_SELECTOR, "input.pick")
        assert boxes and all(b.is_selected() for b in boxes)
        errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
        assert not errors, errors  # no CSP violation, no failed load
    finally:
        s.stop()
