"""The end-to-end demo: every stage runs, the round trip keeps every outcome, the reports exist."""

from __future__ import annotations

import json

from click.testing import CliRunner

from uavsim.cli.main import cli


def test_demo_runs_the_whole_job(tmp_path):
    out = tmp_path / "demo"
    res = CliRunner().invoke(cli, ["demo", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "SYNTHETIC" in res.output
    for name in ("report-vi.html", "report-en.html", "report-vi.pdf", "report-en.pdf"):
        assert (out / name).stat().st_size > 50_000, name
    tlogs = sorted((out / "logs").glob("*.tlog"))
    assert len(tlogs) >= 40
    line = next(x for x in res.output.splitlines() if x.startswith("[5/6 ingest]"))
    assert f"{len(tlogs)} of {len(tlogs)} keep the simulator's outcome" in line
    assert "0 rejected" in line
    # The report's headline is the simulated year only: the re-imported copies live in their own store.
    stats = CliRunner().invoke(cli, ["stats", "--db", str(out / "uavsim.db"), "--json"])
    doc = json.loads(stats.output)
    assert 5400 <= doc["flights"] <= 6600
    sim_line = next(x for x in res.output.splitlines() if x.startswith("[3/6 simulate]"))
    assert f"{doc['flights']} flights" in sim_line
