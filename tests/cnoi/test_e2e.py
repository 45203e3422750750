"""The CNOI study end to end, offline, on the FIXTURE (synthetic data with a planted effect).

One documented step (``alphalab study use cnoi``, here called in-process so that the yfinance
transport is the FIXTURE stand-in that writes the snapshot) and ``dvc repro`` in a temporary
git + DVC repository: every stage runs on the CNOI-format file. The planted effect (more opaque
banks earn less; they fell further on the SVB days) must come out with the right sign and
significant; unmapped CIKs must be listed in the validation summary; the SVB event must group
banks by the CNOI public before 2023-03-10 only, with the count of banks that had one; the
dashboard pages must render the study.

Tolerances: signs exact; "significant" = |t| > 2 (the FIXTURE's effect gives |t| ≈ 3–4; the
data are seeded, so the numbers are fixed); counts exact. The wall time is printed.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml

from alphalab import config, power
from alphalab.studies.prepare import prepare_cnoi
from tests.cnoi.fixture import FILES, HERE, FakeYahoo, build_fixture, expected_pre_event_banks
from tests.conftest import copy_project, init_repo, run

pytestmark = pytest.mark.slow

STAGES = (
    "ingest",
    "validate",
    "panel",
    "backtest",
    "events",
    "regressions",
    "robustness",
    "walkforward",
    "report",
)


def _label_fixture(root: Path) -> None:
    """Label the run as FIXTURE wherever the study shows (name, description, report title)."""
    doc = yaml.safe_load((root / "params.yaml").read_text())
    doc["study"]["name"] = "cnoi-FIXTURE"
    doc["study"]["description"] = (
        "FIXTURE: synthetic CNOI-format data (tests/fixtures/cnoi) with a planted opacity "
        "effect; not real banks. " + doc["study"]["description"]
    )
    doc["report"]["title"] = "FIXTURE (synthetic) - CNOI study"
    (root / "params.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> dict:
    t0 = time.monotonic()
    root = copy_project(tmp_path_factory.mktemp("cnoi") / "repo")
    fake = FakeYahoo()
    done = prepare_cnoi(
        root=root,
        cnoi=HERE / FILES["cnoi"],
        tickers_map=HERE / FILES["sec"],
        overrides=HERE / FILES["overrides"],
        factors=HERE / FILES["factors"],
        downloader=fake,
    )
    _label_fixture(root)
    init_repo(root)
    t1 = time.monotonic()
    proc = run(["dvc", "repro"], root, timeout=600)
    t2 = time.monotonic()
    print(f"\nCNOI e2e: prepare + repo {t1 - t0:.1f} s, dvc repro {t2 - t1:.1f} s")
    return {"root": root, "repro": proc, "prepared": done, "fake": fake, "seconds": t2 - t0}


def _metrics(root: Path, stage: str) -> dict:
    return json.loads((root / "reports" / "metrics" / f"{stage}.json").read_text())


def test_every_stage_ran_and_is_up_to_date(study: dict) -> None:
    root, out = study["root"], study["repro"].stdout
    for stage in STAGES:
        assert f"Running stage '{stage}'" in out
    status = run(["dvc", "status"], root)
    assert "changed" not in status.stdout
    run(["alphalab", "manifest", "verify"], root)
    manifest = json.loads((root / "data/manifest.json").read_text())
    assert manifest["study"] == "cnoi-FIXTURE"
    assert manifest["tables"]["prices"]["n_tickers"] == 40
    assert len(study["fake"].calls) == 2  # prices and benchmark, served once, then snapshots


def test_planted_opacity_effect_is_recovered(study: dict) -> None:
    bt = _metrics(study["root"], "backtest")
    ls = bt["long_short"]  # most opaque quartile minus least opaque
    assert ls["mean"] < 0 and ls["t_nw"] < -2
    assert bt["g1"]["mean"] > bt["g4"]["mean"]
    assert bt["dim_D"]["t_nw"] < -2  # the dimension loading most on opacity
    assert bt["conventions"]["rebalance"] == "availability"
    reg = _metrics(study["root"], "regressions")
    assert reg["fama_macbeth_score"]["coef"] < 0 and reg["fama_macbeth_score"]["t"] < -2
    assert reg["panel_ols_score"]["t"] < -2
    assert reg["conventions"]["frequency"] == "quarterly"


def test_validation_summary_lists_unmapped_ciks(study: dict) -> None:
    root = study["root"]
    summary = json.loads((root / "reports/validation/summary.json").read_text())
    sig = summary["inputs"]["signal"]
    assert (sig["rows_in"], sig["quarantined"], sig["accepted"]) == (462, 22, 440)
    md = (root / "reports/validation/summary.md").read_text()
    assert "UNMAPPED-CIK0009900041" in md and "UNMAPPED-CIK0009900042" in md
    report = json.loads((root / "reports/validation/signal.json").read_text())
    rules = {f["rule"] for f in report["findings"]}
    assert "unknown_ticker" in rules and "share_class" not in rules  # no preferred line left


def test_svb_groups_use_only_cnoi_public_before_the_event(study: dict) -> None:
    ev = _metrics(study["root"], "events")
    conv = ev["conventions"]
    assert conv["events"] == ["2023-03-10"] and conv["estimation_end"] == "2023-01-31"
    assert conv["n_events"] == 40
    assert conv["n_with_signal_before_event"] == expected_pre_event_banks(build_fixture()) == 30
    assert ev["car_diff_m1_p1"]["diff_car"] < 0  # the opaque quartile fell further (planted)


def test_power_analysis_on_the_fixture_shape(study: dict, tmp_path: Path) -> None:
    panel = study["root"] / "data/processed/panel.parquet"
    out = tmp_path / "power.json"
    code = power.main(
        ["--panel", str(panel), "--n-groups", "4", "--effect", "0.022", "--json", str(out)]
    )
    assert code == 0
    doc = json.loads(out.read_text())
    shape, pw = doc["shape"], doc["power"]
    assert shape["n_periods"] == 10 and shape["names_median"] == 40
    print(
        f"\nFIXTURE power: MDE at 80% = {pw['mde']:.2%} per quarter "
        f"(normal theory {pw['analytic_mde']:.2%}); power at 2.2%/quarter = {pw['power']:.1%}; "
        f"vol {pw['vol']:.2%}/quarter, rho {pw['rho']:.2f}"
    )
    assert 0 < pw["power"] < 0.5 and pw["mde"] > 0.022


def test_dashboard_pages_render_the_study(study: dict) -> None:
    from alphalab.reporting import dashboard as dash

    paths = config.Paths(study["root"])
    for name in dash.PAGES:
        page = dash.build_page(name, paths=paths)
        html = "".join(getattr(c, "value", "") for a in page.areas.values() for c in a.box.children)
        assert "al-error" not in html and "al-failed" not in html, name
        assert all(s.state == "ok" for s in page.view.status), name
        if name == "overview":
            assert "cnoi-FIXTURE" in html
        if name == "data_quality":
            page.controls["validation.input"].value = "signal"
            shown = "".join(
                getattr(c, "value", "") for a in page.areas.values() for c in a.box.children
            )
            assert "UNMAPPED-CIK" in shown
    html_report = (study["root"] / "reports/html/summary.html").read_text()
    assert "FIXTURE" in html_report
