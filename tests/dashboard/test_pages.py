"""Dashboard pages built from FIXTURE artifacts: headline numbers equal the metrics files,
widgets change what is shown, empty and failed stages say so, provenance flags staleness.

Tolerance: none — every number on a page is read from an artifact and formatted, so values are
compared exactly (the stored float, and its formatted text).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from alphalab import config
from alphalab.reporting import dashboard as dash
from alphalab.reporting.metrics import write_metrics
from alphalab.reporting.tables import format_stat, stat_kind

REPO = Path(__file__).resolve().parents[2]
CARD = re.compile(
    r'data-stage="([^"]+)" data-series="([^"]+)" data-stat="([^"]+)" data-value="([^"]+)"'
)


def _docs(root: Path) -> dict[str, dict]:
    paths = config.Paths(root)
    return {
        s: json.loads((paths.metrics / f"{s}.json").read_text())
        for s in dash.METRIC_STAGES
        if (paths.metrics / f"{s}.json").is_file()
    }


def _html(page: dash.DashboardPage, section: str) -> str:
    return "".join(getattr(c, "value", "") for c in page.areas[section].box.children)


def _figure(page: dash.DashboardPage, section: str, key: str) -> dict:
    for child in page.areas[section].box.children:
        if f"al-fig-{key}" in child._dom_classes:
            return child.outputs[0]["data"][dash.PLOTLY_MIME]
    raise AssertionError(f"no figure {key} in {section}")


def test_overview_headlines_equal_metrics_files(fixture_root: Path) -> None:
    docs = _docs(fixture_root)
    h = dash.headline_numbers(dash.Artifacts(config.Paths(fixture_root)))
    assert set(h["stage"]) == set(dash.METRIC_STAGES)
    assert {("backtest", "long_short", "sharpe"), ("backtest", "long_short_net", "sharpe")} <= set(
        zip(h["stage"], h["series"], h["stat"], strict=True)
    )
    for r in h.itertuples():
        stored = docs[r.stage][r.series][r.stat]
        assert r.value == stored
        assert r.text == format_stat(stat_kind(r.series, r.stat), stored)
    page = dash.build_page("overview", paths=config.Paths(fixture_root))
    shown = _html(page, "headlines")
    cards = CARD.findall(shown)
    assert len(cards) == len(h)
    for stage, series, stat, value in cards:
        assert float(value) == docs[stage][series][stat]
    for text in h["text"]:
        assert f'<div class="al-value">{text}</div>' in shown
    assert "FAIL" in shown and "1/3 criteria passed" in shown


def test_trial_count_next_to_trial_dependent_numbers(fixture_root: Path) -> None:
    h = dash.headline_numbers(dash.Artifacts(config.Paths(fixture_root)))
    rob = h[h["stage"] == "robustness"]
    assert not rob.empty and (rob["n_trials"] == 24).all()
    shown = _html(dash.build_page("overview", paths=config.Paths(fixture_root)), "headlines")
    assert "best_variant · 24 trials" in shown
    pbo = h[(h["stage"] == "robustness") & (h["stat"] == "pbo")]
    assert pbo["n_trials"].tolist() == [24]  # PBO shown with the trial count the file states


def test_headlines_from_stage_shaped_documents(tmp_path: Path) -> None:
    paths = config.Paths(tmp_path)
    conv = {"periods_per_year": 252}
    write_metrics(
        "events",
        {
            "car_all_0_0": {"mean": 0.0015, "kp_t": -0.04, "p_kp": 0.97, "n_obs": 60},
            "car_diff_0_0": {"diff_car": 0.033, "welch_t": 1.6, "p_welch": 0.12},
        },
        conv,
        paths=paths,
        extra_keys=frozenset({"kp_t", "p_kp", "diff_car", "welch_t", "p_welch"}),
    )
    write_metrics(
        "walkforward",
        {
            "oos": {"sharpe": -0.09, "dsr": 0.26, "t_nw": -0.4, "n_obs": 6294},
            "walkforward": {"n_trials": 6, "pbo": 0.68},
        },
        conv,
        paths=paths,
        extra_keys=frozenset({"pbo"}),
    )
    h = dash.headline_numbers(dash.Artifacts(paths)).set_index(["series", "stat"])
    assert h.loc[("car_all_0_0", "mean"), "text"] == "0.150%"
    assert h.loc[("car_all_0_0", "mean"), "label"] == "CAAR (%)"
    assert h.loc[("car_diff_0_0", "welch_t"), "text"] == "1.60"
    assert h.loc[("oos", "dsr"), "n_trials"] == 6  # DSR shown with the trials it deflates for
    assert pd.isna(h.loc[("oos", "sharpe"), "n_trials"])
    assert h.loc[("walkforward", "pbo"), "n_trials"] == 6


def test_sorts_horizon_widget_changes_figure_and_numbers(fixture_root: Path) -> None:
    docs = _docs(fixture_root)
    page = dash.build_page("portfolio_sorts", paths=config.Paths(fixture_root))
    control = page.controls["horizon.horizon"]
    assert control.options == ("1", "21")
    before = _figure(page, "horizon", "quantile-means")
    assert "horizon 1" in before["layout"]["title"]["text"]
    control.value = "21"
    after = _figure(page, "horizon", "quantile-means")
    assert "horizon 21" in after["layout"]["title"]["text"]
    stats = _html(page, "horizon")
    assert "ic_h21" in stats and "ic_h1<" not in stats
    assert format_stat("t_nw", docs["backtest"]["ic_h21"]["t_nw"]) in stats


def test_sorts_costs_toggle_shows_net_numbers(fixture_root: Path) -> None:
    docs = _docs(fixture_root)
    page = dash.build_page("portfolio_sorts", paths=config.Paths(fixture_root))
    gross = _html(page, "performance")
    page.controls["performance.costs"].value = "net"
    net = _html(page, "performance")
    assert "long_short_net" in net and "long_short_net" not in gross
    sharpe = format_stat("sharpe", docs["backtest"]["long_short_net"]["sharpe"])
    assert f'<td class="al-num">{sharpe}</td>' in net
    page.controls["cumulative.series"].value = ("g1",)
    fig = _figure(page, "cumulative", "cumulative")
    assert [t["name"] for t in fig["data"]] == ["g1"]


def test_event_window_widget_moves_the_shaded_window(fixture_root: Path) -> None:
    summary = pd.read_parquet(fixture_root / dash.EVENT_SUMMARY)
    page = dash.build_page("event_study", paths=config.Paths(fixture_root))
    control = page.controls["window.window"]
    assert control.options == ("m1_p1", "0_p5")
    assert page.controls["window.groups"].value == ("1", "5", "all")
    control.value = "0_p5"
    fig = _figure(page, "window", "caar")
    shapes = [s for s in fig["layout"]["shapes"] if s.get("type") == "rect"]
    assert (shapes[-1]["x0"], shapes[-1]["x1"]) == (-0.5, 5.5)
    text = _html(page, "window")
    assert "window 0_p5" in text
    kp = summary.loc[(summary["window"] == "0_p5") & (summary["group"] == "all"), "kp_t"].iloc[0]
    assert f'<td class="al-num">{format_stat("kp_t", kp)}</td>' in text


def test_robustness_best_variant_with_its_trial_count(fixture_root: Path) -> None:
    grid = pd.read_parquet(fixture_root / dash.GRID)
    page = dash.build_page("robustness", paths=config.Paths(fixture_root))
    assert page.controls["grid.window"].value == "full"
    for window in ("full", "sub2"):
        page.controls["grid.window"].value = window
        sub = grid[grid["window"] == window]
        for stat in ("sharpe", "t_nw"):
            page.controls["grid.stat"].value = stat
            best = _html(page, "grid")
            assert f'data-value="{float(sub[stat].max())!r}"' in best
            # 18 variants in the window; 24 distinct trials (25 ledger lines, one duplicate)
            assert "best of 18 variants · 24 trials in the ledger" in best
    fig = _figure(page, "grid", "grid")
    base = grid.loc[(grid["window"] == "sub2") & grid["is_base"], "t_nw"].iloc[0]
    assert fig["layout"]["shapes"][0]["y0"] == base


def test_variant_widget_shows_that_variant_against_the_base(fixture_root: Path) -> None:
    grid = pd.read_parquet(fixture_root / dash.GRID)
    best = grid.loc[grid["is_best"], "variant"].iloc[0]
    base = grid.loc[grid["is_base"], "variant"].iloc[0]
    page = dash.build_page("robustness", paths=config.Paths(fixture_root))
    control = page.controls["variant.variant"]
    assert control.value == best and len(control.options) == 18
    other = next(v for v in control.options if v not in (best, base))
    control.value = other
    text = _html(page, "variant")
    assert f"variant {other} (reports/robustness/grid.parquet)" in text
    sub = grid[(grid["variant"] == other) & (grid["window"] == "sub1")]
    assert f'<td class="al-num">{format_stat("sharpe", sub["sharpe"].iloc[0])}</td>' in text
    fig = _figure(page, "variant", "variant-returns")
    assert [t["name"] for t in fig["data"]] == [other, base]


def test_placebo_compared_with_the_stored_observed_value(fixture_root: Path) -> None:
    page = dash.build_page("robustness", paths=config.Paths(fixture_root))
    page.controls["placebo.stat"].value = "t_nw"
    fig = _figure(page, "placebo", "placebo")
    assert fig["layout"]["shapes"][0]["x0"] == 1.1
    assert "placebo p-value 0.210 (200 draws" in _html(page, "placebo")


def test_gate_criteria_list_or_mapping() -> None:
    as_list = {
        "decision": "PASS",
        "criteria": [{"name": "a", "threshold": 1, "value": 2, "passed": True}],
    }
    as_map = {
        "decision": "FAIL",
        "criteria": {"a": {"threshold": 1, "measured": 0.5, "passed": False}},
    }
    assert dash.gate_criteria(as_list).loc["a", "passed"] == "✓ pass"
    assert dash.gate_criteria(as_map).loc["a", "measured"] == 0.5
    with pytest.raises(dash.ArtifactError, match="'criteria' must be a list or an object"):
        dash.criteria_rows({"criteria": "nope"})


def test_every_page_builds_without_errors_on_fixture(fixture_root: Path) -> None:
    for name in dash.PAGES:
        page = dash.build_page(name, paths=config.Paths(fixture_root))
        assert "al-ready" in page.root._dom_classes
        for key, area in page.areas.items():
            for child in area.box.children:
                assert "al-block-error" not in child._dom_classes, (name, key, child.value)


def test_empty_root_every_page_says_what_to_run(empty_root: Path) -> None:
    paths = config.Paths(empty_root)
    for name, info in dash.PAGES.items():
        page = dash.build_page(name, paths=paths)
        text = "".join(getattr(c, "value", "") for a in page.areas.values() for c in a.box.children)
        figures = [c for a in page.areas.values() for c in a.box.children if hasattr(c, "outputs")]
        assert figures == [], name
        if name not in ("overview", "provenance", "data_quality"):
            assert f"<code>dvc repro {info.stages[0]}</code>" in text, name
            assert "has not run" in text
    overview = dash.build_page("overview", paths=paths)
    assert "No results yet" in _html(overview, "headlines")
    assert _html(overview, "status").count("not run") == len(dash.STAGES)


def test_failed_stage_page_shows_the_failure(fixture_root: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(fixture_root, root)
    (root / dash.STAGES["backtest"].artifact).unlink()
    failed = root / "reports" / "failed" / "10_backtest.ipynb"
    failed.parent.mkdir(parents=True)
    failed.write_text(
        json.dumps(
            {
                "cells": [
                    {
                        "outputs": [
                            {
                                "output_type": "error",
                                "ename": "ValueError",
                                "evalue": "n_groups too large",
                            }
                        ]
                    }
                ]
            }
        )
    )
    text = _html(dash.build_page("portfolio_sorts", paths=config.Paths(root)), "empty")
    assert "The backtest stage failed." in text and "ValueError: n_groups too large" in text
    assert "<code>dvc repro backtest</code>" in text


def test_provenance_flags_changed_params_and_data(fixture_root: Path, tmp_path: Path) -> None:
    root = tmp_path / "root"
    shutil.copytree(fixture_root, root)
    prov = dash.build_page("portfolio_sorts", paths=config.Paths(root)).view.provenance
    assert "matches current params.yaml" in prov and "raw/prices" in prov and "✓" in prov
    text = (root / "params.yaml").read_text()
    (root / "params.yaml").write_text(text.replace('start: "1990-01-01"', 'start: "1991-01-01"'))
    man = json.loads((root / "data" / "manifest.json").read_text())
    man["tables"]["prices"]["sha256"] = "0" * 64
    (root / "data" / "manifest.json").write_text(json.dumps(man))
    prov = dash.build_page("portfolio_sorts", paths=config.Paths(root)).view.provenance
    assert "differs from current params.yaml" in prov
    assert "≠ current manifest" in prov


def test_nav_and_notebooks_cover_every_page() -> None:
    nav = dash.nav_html("overview")
    for info in dash.PAGES.values():
        assert f'href="{info.notebook}"' in nav
        nb = json.loads((REPO / "notebooks" / "dashboard" / info.notebook).read_text())
        assert nb["metadata"]["kernelspec"]["name"] == "alphalab"
        source = "".join(c["source"] for c in nb["cells"])
        assert f'show("{info.name}")' in source
    assert nav.count("al-current") == 1
