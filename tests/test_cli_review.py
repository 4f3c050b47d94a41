"""``uavsim user add``, ``review``, ``reviews`` and ``flight show`` from the command line."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from uavsim.cli.main import cli
from uavsim.report.sample import sample_flights
from uavsim.store import Store


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "store.db"
    with Store(path) as store:
        store.add_run("sample", sample_flights(12, seed=5, unsafe_rate=0.3))
    return path


def run(*args, stdin=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=stdin)


def unsafe_id(db):
    with Store(db) as s:
        return next(f for f in s.flights() if f.outcome == "unsafe")


def test_user_add_hashes_with_argon2(db):
    r = run("user", "add", "ana", "--role", "analyst", "--db", db, "--password-stdin", stdin="s3cret-enough\n")
    assert r.exit_code == 0, r.output
    with Store(db) as s:
        u = s.user("ana")
    assert u["role"] == "analyst" and u["password_hash"].startswith("$argon2id$")
    assert "s3cret-enough" not in u["password_hash"]
    r = run("user", "add", "bob", "--role", "viewer", "--db", db, "--password-stdin", stdin="short\n")
    assert r.exit_code == 1 and "at least 8 characters" in r.output
    r = run("user", "add", "bad name", "--role", "viewer", "--db", db, "--password-stdin", stdin="long-enough\n")
    assert r.exit_code == 1 and "user name" in r.output
    assert run("user", "add", "x", "--role", "admin", "--db", db, "--password-stdin", stdin="p\n").exit_code == 2


def test_review_keeps_the_automatic_verdict(db):
    f = unsafe_id(db)
    r = run("review", f.id, "--severity", "observation", "--reason", "video shows a normal landing",
            "--reviewer", "ana", "--db", db)
    assert r.exit_code == 0, r.output
    assert f"{f.severity}/unsafe (automatic) -> observation/safe by ana" in r.output
    r = run("review", f.id, "--severity", "accident", "--reason", "airframe found broken", "--reviewer", "lan",
            "--db", db, "--json")
    doc = json.loads(r.output)
    assert (doc["severity"], doc["outcome"], doc["reviewer"]) == ("accident", "unsafe", "lan")
    doc = json.loads(run("reviews", "--db", db, "--json").output)
    assert [x["reviewer"] for x in doc["reviews"]] == ["ana", "lan"]
    assert all(x["automatic_severity"] == f.severity for x in doc["reviews"])
    with Store(db) as s:
        shown = s.flight(f.id, with_telemetry=False)
    assert (shown.severity, shown.outcome) == ("accident", "unsafe")  # the latest review is shown
    assert "2 reviews" in run("reviews", "--db", db).output


def test_review_errors_are_one_line(db, tmp_path):
    r = run("review", "no-such", "--severity", "none", "--reason", "x", "--reviewer", "a", "--db", db)
    assert r.exit_code == 1 and "no flight 'no-such'" in r.output and "Traceback" not in r.output
    f = unsafe_id(db)
    r = run("review", f.id, "--severity", "none", "--reason", "  ", "--reviewer", "a", "--db", db)
    assert r.exit_code == 1 and "needs a reason" in r.output
    r = run("reviews", "--db", tmp_path / "absent.db")
    assert r.exit_code == 1 and "no flight store here" in r.output
    assert not (tmp_path / "absent.db").exists()


def test_flight_show_text_json_and_picture(db, tmp_path):
    f = unsafe_id(db)
    r = run("flight", "show", f.id, "--db", db, "--no-terrain")
    assert r.exit_code == 0, r.output
    assert f.id in r.output and f.events[0].kind in r.output and "not recorded: Battery voltage and current" in r.output
    doc = json.loads(run("flight", "show", f.id, "--db", db, "--no-terrain", "--json").output)
    assert doc["flight"]["id"] == f.id and len(doc["series"]["t_s"]) == 300
    assert doc["recorded"]["track"] is True and doc["recorded"]["attitude"] is False
    png = tmp_path / "f.png"
    r = run("flight", "show", f.id, "--db", db, "--plot", png)
    assert r.exit_code == 0, r.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    r = run("flight", "show", "nope", "--db", db, "--no-terrain")
    assert r.exit_code == 1 and "no flight 'nope'" in r.output
