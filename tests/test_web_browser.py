"""One end-to-end test in a real browser (Debian's chromium and chromium-driver through selenium):
log in, open a flight, sign off a review, and see it on the page."""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest

from uavsim.report.sample import sample_flights
from uavsim.store import Store
from uavsim.web import auth
from uavsim.web.app import WebConfig, create_app
from uavsim.web.upload import IngestOptions

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver") or (
    "/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None)
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--window-size=1300,1000")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    import uvicorn

    db = tmp_path / "store.db"
    with Store(db) as store:
        store.add_run("sample", sample_flights(8, seed=2, unsafe_rate=0.5))
        auth.add_user(store, "ana", "analyst", "analyst-pass-1")
        fid = next(f.id for f in store.flights() if f.outcome == "unsafe")
    app = create_app(WebConfig(db=db, use_terrain=False, ingest=IngestOptions(use_terrain=False, scenario=None)))
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}", fid, db
    srv.should_exit = True
    thread.join(10)


@pytest.fixture
def browser():
    if not CHROMIUM or not DRIVER:
        pytest.skip("chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    for flag in FLAGS:
        opts.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="uavsim-chromium-")
    opts.add_argument(f"--user-data-dir={profile}")
    opts.binary_location = CHROMIUM
    try:
        driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    except Exception as exc:  # noqa: BLE001 - a browser that cannot start on this machine is a skip, said why
        shutil.rmtree(profile, ignore_errors=True)
        pytest.skip(f"chromium cannot start here: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def test_log_in_review_and_see_it(server, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import Select, WebDriverWait

    base, fid, db = server
    wait = WebDriverWait(browser, 30)
    browser.get(f"{base}/login?next=/flights/{fid}")
    browser.find_element(By.ID, "username").send_keys("ana")
    browser.find_element(By.ID, "password").send_keys("analyst-pass-1")
    browser.find_element(By.ID, "login-submit").click()
    wait.until(ec.presence_of_element_located((By.ID, "review-form")))
    assert browser.find_element(By.ID, "flight-id").text == fid
    assert "ana (analyst)" in browser.find_element(By.ID, "who").text
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#plot-altitude .main-svg"))  # plotly drew, offline
    Select(browser.find_element(By.ID, "review-severity")).select_by_value("incident")
    browser.find_element(By.ID, "review-reason").send_keys("Checked the video: landed at the pad <b>ok</b>")
    browser.find_element(By.ID, "review-submit").click()
    table = wait.until(ec.presence_of_element_located((By.ID, "review-table")))
    row = table.find_elements(By.CSS_SELECTOR, "tbody tr")[-1].text
    assert "ana" in row and "incident" in row and "landed at the pad <b>ok</b>" in row  # shown as text
    assert "reviewed by ana" in browser.find_element(By.ID, "verdict").text
    with Store(db) as s:
        (review,) = s.reviews(fid)
    assert (review["reviewer"], review["severity"], review["outcome"]) == ("ana", "incident", "safe")
