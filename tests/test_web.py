"""The workbench through Starlette's test client: every route, every refused write, hostile input."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import numpy as np
import pytest
from starlette.testclient import TestClient

from uavsim.records import Event
from uavsim.report.sample import sample_flights
from uavsim.safety import stats
from uavsim.safety.rules import default_rules
from uavsim.store import Store
from uavsim.web import auth
from uavsim.web.app import SESSION_COOKIE, WebConfig, create_app
from uavsim.web.upload import IngestOptions, safe_name

LOCAL = ("127.0.0.1", 50000)
PASSWORDS = {"ana": ("analyst", "analyst-pass-1"), "op": ("operator", "operator-pass-1"),
             "vic": ("viewer", "viewer-pass-1")}


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("web") / "store.db"
    with Store(path) as store:
        store.add_run("sample", sample_flights(60, seed=3, unsafe_rate=0.1))
        for name, (role, pw) in PASSWORDS.items():
            auth.add_user(store, name, role, pw)
    return path


def make_app(db, **policy):
    return create_app(WebConfig(db=db, use_terrain=False, policy=auth.AuthPolicy(**policy),
                                ingest=IngestOptions(use_terrain=False, scenario=None, max_file_bytes=2_000_000)))


@pytest.fixture(scope="module")
def app(db):
    return make_app(db)


def client(app, host=LOCAL):
    return TestClient(app, client=host)


def logged_in(app, name):
    c = client(app)
    r = c.post("/login", data={"username": name, "password": PASSWORDS[name][1]}, follow_redirects=False)
    assert r.status_code == 303 and SESSION_COOKIE in r.cookies
    return c, c.get("/api/session").json()["csrf_token"]


def first_id(db, unsafe=False):
    with Store(db) as s:
        return next(f.id for f in s.flights() if not unsafe or f.outcome == "unsafe")


def test_pages_open_without_login_on_loopback(app, db):
    c = client(app)
    fid = first_id(db)
    for path in ("/", "/flights", f"/flights/{fid}", "/login", "/upload", "/api/flights", f"/api/flights/{fid}"):
        assert c.get(path).status_code == 200, path
    dash = c.get("/").text
    n = len(stats.load_flights(db))
    assert f"<b>{n}</b> flights" in dash
    assert "99.0 % target" in dash and ("not yet shown" in dash or "shown" in dash)
    for by in ("mission_type", "site", "aircraft", "pilot", "month"):
        assert f'id="by-{by}"' in dash
    figs = json.loads(re.search(r'<script type="application/json" id="figures">(.*?)</script>', dash, re.S).group(1))
    assert set(figs) == {"trend_counts", "trend_rate"}
    assert sum(figs["trend_counts"]["data"][0]["y"]) == n  # every dated flight is in one month's bar


def test_api_stats_is_the_stats_json_document(app, db):
    doc = client(app).get("/api/stats").json()
    want = stats.summarize(stats.load_flights(db)).to_dict()
    for key in ("flights", "unsafe", "safety_rate", "lower_bound", "confidence", "target", "meets_target", "by"):
        assert doc[key] == pytest.approx(want[key]) if isinstance(want[key], float) else doc[key] == want[key]
    by_site = client(app).get("/api/stats?by=site").json()["by"]
    assert sum(g["flights"] for g in by_site) == want["flights"]


def test_api_flights_are_records_with_events(app, db):
    doc = client(app).get("/api/flights").json()
    with Store(db) as s:
        stored = s.flights()
    assert [f["id"] for f in doc["flights"]] == [f.id for f in stored]
    assert sum(len(f["events"]) for f in doc["flights"]) == sum(len(f.events) for f in stored)
    assert doc["ground_runs"] == []
    one = client(app).get(f"/api/flights/{stored[0].id}?telemetry=1").json()
    assert one["id"] == stored[0].id and len(one["telemetry"]["t_s"]) == 300
    assert client(app).get("/api/flights/no-such-flight").status_code == 404


def test_flights_filter_and_sort(app, db):
    c = client(app)
    with Store(db) as s:
        flights = s.flights()
    unsafe = [f for f in flights if f.outcome == "unsafe"]
    page = c.get("/flights?severity=" + unsafe[0].severity).text
    want = sum(f.severity == unsafe[0].severity for f in flights)
    assert f">{want} flights," in page
    page = c.get("/flights?sort=duration&order=desc").text
    ids = re.findall(r'<a href="/flights/([^"]+)">', page)
    by_duration = [f.id for f in sorted(flights, key=lambda f: f.duration_s, reverse=True)]
    assert ids[:10] == by_duration[:10]
    site = flights[0].site
    page = c.get(f"/flights?site={site}&from=2000-01-01&to=2100-01-01").text
    assert f">{sum(f.site == site for f in flights)} flights," in page
    assert "None in this store." in page  # ground runs: the store keeps none


def test_flight_page_plots_and_not_recorded(app, db):
    fid = first_id(db, unsafe=True)
    page = client(app).get(f"/flights/{fid}").text
    figs = json.loads(re.search(r'id="figures">(.*?)</script>', page, re.S).group(1))
    assert {"map", "altitude", "speed", "battery", "modes", "events"} <= set(figs)
    with Store(db) as s:
        f = s.flight(fid)
    assert figs["altitude"]["data"][1]["y"][5] == pytest.approx(f.telemetry.alt_msl_m[5])
    for title in ("Attitude (desired and actual)", "Vibration", "GPS satellites and HDOP"):
        assert f"{title}: not recorded" in page
    assert client(app).get("/flights/not-a-flight").status_code == 404


def test_reads_from_another_host_need_a_login(app):
    remote = client(app, ("192.0.2.7", 40000))
    assert remote.get("/").status_code == 401
    assert remote.get("/api/stats").status_code == 401
    r = remote.post("/login", data={"username": "vic", "password": PASSWORDS["vic"][1]}, follow_redirects=False)
    assert r.status_code == 303
    assert remote.get("/api/stats").status_code == 200


def test_review_refusals_and_sign_off(db):
    app = make_app(db)
    fid = first_id(db, unsafe=True)
    url = f"/flights/{fid}/review"
    form = {"severity": "incident", "outcome": "safe", "reason": "pilot report: landed on the pad"}
    assert client(app).post(url, data=dict(form, csrf_token="x"), follow_redirects=False).status_code == 401
    ana, token = logged_in(app, "ana")
    assert ana.post(url, data=form, follow_redirects=False).status_code == 403  # no token
    assert ana.post(url, data=dict(form, csrf_token=token + "x"), follow_redirects=False).status_code == 403
    for name in ("vic", "op"):
        c, tok = logged_in(app, name)
        assert c.post(url, data=dict(form, csrf_token=tok), follow_redirects=False).status_code == 403
    assert ana.post(url, data=dict(form, severity="bogus", csrf_token=token)).status_code == 400
    assert ana.post(url, data=dict(form, reason=" ", csrf_token=token)).status_code == 400
    with Store(db) as s:
        automatic = s.flight(fid)
        assert s.reviews(fid) == []
    r = ana.post(url, data=dict(form, csrf_token=token), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].endswith("#reviews")
    page = ana.get(f"/flights/{fid}").text
    assert "pilot report: landed on the pad" in page and "reviewed by ana" in page
    with Store(db) as s:
        (row,) = s.reviews(fid)
        f = s.flight(fid)
    assert (row["reviewer"], row["severity"], row["outcome"]) == ("ana", "incident", "safe")
    assert (row["automatic_severity"], row["automatic_outcome"]) == (automatic.severity, "unsafe")
    assert (f.severity, f.outcome) == ("incident", "safe")
    assert f.extra["automatic"] == {"severity": automatic.severity, "outcome": "unsafe"}
    assert client(app).post("/flights/none-such/review", data=dict(form, csrf_token=token)).status_code == 401
    assert ana.post("/flights/none-such/review", data=dict(form, csrf_token=token)).status_code == 404


def test_login_failures_are_rate_limited(db):
    app = make_app(db, max_failures=3)
    c = client(app, ("127.0.0.9", 1))
    for _ in range(3):
        assert c.post("/login", data={"username": "op", "password": "wrong-password"}).status_code == 401
    r = c.post("/login", data={"username": "op", "password": PASSWORDS["op"][1]}, follow_redirects=False)
    assert r.status_code == 429 and SESSION_COOKIE not in r.cookies


def test_sessions_expire_and_logout_ends_them(db):
    app = make_app(db, session_ttl_s=2.0)
    c, _ = logged_in(app, "ana")
    assert c.get("/api/session").json()["user"] == "ana"
    time.sleep(2.1)
    assert c.get("/api/session").json()["user"] is None
    app = make_app(db)
    c, token = logged_in(app, "ana")
    assert c.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert c.get("/api/session").json()["user"] is None


def test_login_guards(app):
    c = client(app)
    r = c.post("/login", data={"username": "ana", "password": PASSWORDS["ana"][1], "next": "//evil.example/x"},
               follow_redirects=False)
    assert r.headers["location"] == "/"
    r = c.post("/login", data={"username": "ana", "password": PASSWORDS["ana"][1]},
               headers={"Origin": "http://evil.example"}, follow_redirects=False)
    assert r.status_code == 403
    assert c.post("/login", data={"username": "nobody", "password": "whatever1"}).status_code == 401
    form = client(app)
    page = form.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    ok = {"username": "ana", "password": PASSWORDS["ana"][1]}
    assert form.post("/login", data=dict(ok, csrf_token=token + "x"), follow_redirects=False).status_code == 403
    assert form.post("/login", data=dict(ok, csrf_token=token), follow_redirects=False).status_code == 303


def test_logout_needs_the_session_token(db):
    app = make_app(db)
    c, token = logged_in(app, "vic")
    assert c.post("/logout", follow_redirects=False).status_code == 403
    assert c.get("/api/session").json()["user"] == "vic"
    assert c.post("/logout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert c.get("/api/session").json()["user"] is None


def test_reviews_page_and_api(db):
    app = make_app(db)
    fid = first_id(db)
    ana, token = logged_in(app, "ana")
    ana.post(f"/flights/{fid}/review", data={"severity": "observation", "reason": "checked <i>twice</i>",
                                             "csrf_token": token})
    rows = client(app).get("/api/reviews").json()["reviews"]
    assert rows[-1]["flight_id"] == fid and rows[-1]["reviewer"] == "ana" and rows[-1]["severity"] == "observation"
    page = client(app).get("/reviews").text
    assert f'href="/flights/{fid}"' in page and "checked &lt;i&gt;twice&lt;/i&gt;" in page


def test_static_files_come_from_a_fixed_table(app):
    c = client(app)
    js = c.get("/static/plotly.min.js")
    assert js.status_code == 200 and b"plotly" in js.content[:2000].lower()
    assert "cdn" not in c.get("/").text.lower()
    for path in ("/static/..%2Fapp.py", "/static/store.py", "/static/%2e%2e%2fauth.py"):
        assert c.get(path).status_code == 404, path


def _crash_tlog(path, text):
    from uavsim.sim import tlog_writer

    f = sample_flights(1, seed=11)[0]
    rules = default_rules()
    f.events = [rules.make_event("CRASH", float(f.telemetry.t_s[-1]) - 5.0)]
    old = tlog_writer.STATUS_TEXT["CRASH"]
    tlog_writer.STATUS_TEXT["CRASH"] = (old[0], text)
    try:
        return tlog_writer.write_tlog(f, path)
    finally:
        tlog_writer.STATUS_TEXT["CRASH"] = old


def test_upload_refusals(db, tmp_path):
    app = make_app(db)
    files = [("files", ("a.tlog", b"\x89PNG\r\n\x1a\n" + b"0" * 100, "application/octet-stream"))]
    assert client(app).post("/upload", files=files, data={"csrf_token": "x"}).status_code == 401
    vic, tok = logged_in(app, "vic")
    assert vic.post("/upload", files=files, data={"csrf_token": tok}).status_code == 403
    op, tok = logged_in(app, "op")
    assert op.post("/upload", files=files).status_code == 403  # no CSRF token
    assert op.post("/upload", files=files, data={"csrf_token": "wrong"}).status_code == 403
    r = op.post("/upload", files=files, data={"csrf_token": tok}, headers={"Accept": "application/json"})
    (row,) = r.json()["files"]
    assert row["status"] == "rejected" and "not a recognised flight log" in row["error"]
    big = [("files", ("big.tlog", b"x" * 2_100_000, "application/octet-stream"))]
    (row,) = op.post("/upload", files=big, data={"csrf_token": tok}, headers={"Accept": "application/json"}).json()["files"]
    assert row["status"] == "rejected" and "larger than" in row["error"]


def test_hostile_log_is_escaped_everywhere(db, tmp_path):
    app = make_app(db)
    log = _crash_tlog(tmp_path / "evil.tlog", "Crash: <script>alert(1)</script>")
    op, tok = logged_in(app, "op")
    name = '<img src=x onerror=alert(2)>.tlog'
    files = [("files", (name, log.read_bytes(), "application/octet-stream"))]
    r = op.post("/upload", files=files, data={"csrf_token": tok})
    assert r.status_code == 200 and "imported" in r.text and "<img src=x" not in r.text
    fid = re.search(r'href="/flights/([^"]+)"', r.text.split('id="upload-results"')[1]).group(1)
    page = client(app).get(f"/flights/{fid}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "\\u0026lt;script\\u0026gt;" in page  # inside the figures' JSON: escaped, then JSON-escaped
    with Store(db) as s:
        f = s.flight(fid)
    assert f.source == "log" and any(e.kind == "CRASH" and "<script>" in e.evidence for e in f.events)
    again = op.post("/upload", files=files, data={"csrf_token": tok}, headers={"Accept": "application/json"}).json()
    assert again["files"][0]["status"] == "duplicate"


def test_safe_name_never_leaves_the_folder():
    assert safe_name("../../etc/passwd", 0) == "passwd"
    assert safe_name("..\\..\\boot.ini", 1) == "boot.ini"
    assert safe_name("...", 2) == "upload-2"
    assert safe_name(None, 3) == "upload-3"
    assert "/" not in safe_name("a/b/<c>.tlog", 4) and safe_name("a/b/<c>.tlog", 4) == "_c_.tlog"


def test_report_download(app):
    c = client(app)
    assert c.get("/report?lang=xx&format=html").status_code == 400
    assert c.get("/report?lang=en&format=exe").status_code == 400
    r = c.get("/report?lang=en&format=html")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "attachment" in r.headers["content-disposition"] and "<html" in r.text.lower()


def test_event_list_has_evidence_escaped_in_store_order(db):
    with Store(db) as s:
        f = next(x for x in s.flights() if x.events)
    page = client(make_app(db)).get(f"/flights/{f.id}").text
    kinds = re.findall(r"<tr><td class=\"n\">[-0-9.]+</td><td>([A-Z_]+)</td>", page)
    assert kinds == [e.kind for e in f.events]
    assert isinstance(f.events[0], Event)


def test_pages_are_served_while_an_ingest_holds_the_write_lock(db):
    import sqlite3
    import threading

    app = make_app(db)
    held, release = threading.Event(), threading.Event()

    def writer():
        conn = sqlite3.connect(str(db), isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO runs (run_id, created_utc) VALUES ('half-written', 'now')")
        held.set()
        release.wait(20)
        conn.execute("ROLLBACK")
        conn.close()

    t = threading.Thread(target=writer)
    t.start()
    try:
        held.wait(10)
        c = client(app)
        t0 = time.perf_counter()
        assert c.get("/api/stats").status_code == 200
        assert c.get("/").status_code == 200
        assert time.perf_counter() - t0 < 10  # a reader never waits for the writer (WAL)
        with Store(db) as s:
            assert "half-written" not in [r["run_id"] for r in s.runs()]  # nothing half-written is seen
    finally:
        release.set()
        t.join()


SHARED_LOGS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "logs"


def test_uploaded_real_log_keeps_attitude_as_pymavlink_reads_it(tmp_path):
    log = SHARED_LOGS / "ardupilot-ardupilot" / "mechanical_fail.log"
    if not log.is_file():
        pytest.skip(f"shared real logs absent ({log})")
    from pymavlink import mavutil

    db = tmp_path / "real.db"
    with Store(db) as s:
        auth.add_user(s, "op", "operator", "operator-pass-1")
    app = create_app(WebConfig(db=db, use_terrain=False, ingest=IngestOptions(use_terrain=False, scenario=None)))
    c = client(app)
    c.post("/login", data={"username": "op", "password": "operator-pass-1"})
    tok = c.get("/api/session").json()["csrf_token"]
    r = c.post("/upload", files=[("files", (log.name, log.read_bytes(), "text/plain"))], data={"csrf_token": tok},
               headers={"Accept": "application/json"})
    (row,) = r.json()["files"]
    assert row["status"] == "imported" and row["flights"]
    fid = row["flights"][0]
    with Store(db) as s:
        series, messages = s.flight_series(fid)
    m = mavutil.mavlink_connection(str(log))
    rolls, des = [], []
    while (x := m.recv_match(type=["ATT"])) is not None:
        rolls.append(x.Roll)
        des.append(x.RollIn)
    rolls, des = np.array(rolls), np.array(des)
    att = series["attitude"]
    assert len(att["roll_deg"]) > 100
    # every stored sample is one of pymavlink's ATT rows (float32 storage), actual and desired alike
    assert np.isfinite(att["roll_deg"]).all()
    gap = np.abs(att["roll_deg"][:, None] - rolls[None, :]).min(axis=1)
    assert gap.max() < 1e-3
    wanted = att["des_roll_deg"][np.isfinite(att["des_roll_deg"])]  # ArduCopter 3.1 logs RollIn (the pilot's)
    assert wanted.size == 0 or np.abs(wanted[:, None] - des[None, :]).min(axis=1).max() < 1e-3
    assert any("FENCE" in (msg["kind"] or "") or "RADIO" in (msg["kind"] or "") for msg in messages)
    page = c.get(f"/flights/{fid}").text
    assert 'data-fig="attitude"' in page and 'id="messages"' in page
    assert "Attitude (desired and actual): not recorded" not in page


def test_trend_axis_breaks_over_long_gaps_only():
    from uavsim.web.plots import month_breaks

    months = ["2014-01-01", "2014-02-01", "2015-07-01", "2026-06-01", "2026-07-01", "2026-09-01"]
    assert month_breaks(months) == [{"bounds": ["2014-03-04", "2015-06-16"]}, {"bounds": ["2015-08-01", "2026-05-17"]}]
    assert month_breaks(months[3:]) == []  # a month without flights inside the campaign stays on the axis
