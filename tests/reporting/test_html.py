"""Static reports: self-contained (no external references), every page, LaTeX tables,
honest empty states, and no partial output on failure.

Tolerance: none — pages copy formatted numbers from the artifacts; compared as exact strings.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alphalab import config
from alphalab.reporting import dashboard as dash
from alphalab.reporting import html as report
from alphalab.reporting.tables import format_stat


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, report.ReportResult]:
    from tests.reporting.artifacts import write_fixture_artifacts

    root = write_fixture_artifacts(tmp_path_factory.mktemp("report") / "root")
    return root, report.build_reports(config.Paths(root), title="FIXTURE report")


@pytest.mark.parametrize(
    "snippet",
    [
        '<script src="https://cdn.plot.ly/plotly-2.min.js"></script>',
        "<script type='text/javascript' src='//cdn.example.org/x.js'></script>",
        '<link rel="stylesheet" href="http://fonts.example.com/a.css">',
        '<img src="https://example.com/logo.png">',
        "<style>@import url('https://fonts.googleapis.com/css?family=Roboto');</style>",
    ],
)
def test_external_reference_detector_catches_each_kind(snippet: str) -> None:
    assert len(report.external_references(f"<html>{snippet}</html>")) == 1


def test_detector_ignores_text_and_local_references() -> None:
    page = (
        '<p>see https://example.com</p><script>var u = "https://plot.ly";</script>'
        '<a href="https://example.com">x</a><link href="style.css"><script src="a.js"></script>'
    )
    assert report.external_references(page) == []


def test_every_page_written_self_contained(built: tuple[Path, report.ReportResult]) -> None:
    root, result = built
    assert (root / "reports" / "html").stat().st_mode & 0o055 == 0o055  # readable by others
    names = sorted(p.name for p in result.html)
    assert names == sorted(info.report for info in dash.PAGES.values())
    for page in result.html:
        text = page.read_text(encoding="utf-8")
        assert report.external_references(text) == [], page.name
        assert "from alphalab" not in text  # no code
        n_js = text.count(report.plotly_js()[:200])
        assert n_js == (1 if "Plotly.newPlot" in text else 0), page.name
    backtest = (root / "reports" / "html" / "backtest.html").read_text(encoding="utf-8")
    assert backtest.count("Plotly.newPlot") >= 4
    assert "Horizon: 1" in backtest and "Horizon: 21" in backtest  # every option rendered


def test_summary_shows_the_metrics_numbers(built: tuple[Path, report.ReportResult]) -> None:
    root, _ = built
    doc = json.loads((root / "reports" / "metrics" / "backtest.json").read_text())
    text = (root / "reports" / "html" / "summary.html").read_text(encoding="utf-8")
    for stat in ("sharpe", "ann_return", "t_nw"):
        value = doc["long_short"][stat]
        assert f'data-value="{value!r}"' in text
        assert f'<div class="al-value">{format_stat(stat, value)}</div>' in text
    assert "Provenance" in text and 'href="backtest.html"' in text


def test_latex_tables_written(built: tuple[Path, report.ReportResult]) -> None:
    root, result = built
    names = {p.stem for p in result.latex}
    assert {
        "backtest_metrics_1",
        "backtest_alphas",
        "regressions_coefficients",
        "robustness_top",
        "walkforward_gate",
    } <= names
    doc = json.loads((root / "reports" / "metrics" / "backtest.json").read_text())
    tex = (root / "reports" / "tables" / "report" / "backtest_metrics_1.tex").read_text()
    assert tex.startswith(r"\begin{table}") and r"\label{tab:backtest_metrics_1}" in tex
    sharpe = format_stat("sharpe", doc["long_short"]["sharpe"]).replace("-", "$-$")
    assert sharpe in tex
    assert r"Conventions: " in tex


def test_empty_root_reports_say_what_to_run(empty_root: Path) -> None:
    result = report.build_reports(config.Paths(empty_root))
    assert result.latex == []
    text = (empty_root / "reports" / "html" / "backtest.html").read_text(encoding="utf-8")
    assert "has not run" in text and "<code>dvc repro backtest</code>" in text
    assert "Plotly.newPlot" not in text


def test_failed_build_leaves_previous_reports(
    fixture_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dirs = report.ReportDirs(tmp_path / "html", tmp_path / "tables")
    report.build_reports(config.Paths(fixture_root), dirs=dirs)
    before = sorted(p.name for p in dirs.html.iterdir())

    def broken(*args: object, **kwargs: object) -> str:
        return '<html><script src="https://cdn.example.org/x.js"></script></html>'

    monkeypatch.setattr(report, "render_page", broken)
    with pytest.raises(report.OfflineError, match="external references"):
        report.build_reports(config.Paths(fixture_root), dirs=dirs)
    assert sorted(p.name for p in dirs.html.iterdir()) == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
