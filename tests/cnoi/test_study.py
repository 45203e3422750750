"""Switching to the CNOI study (alphalab.studies): reading the file, checks, mapping, params.

Inputs are the FIXTURE files of ``tests/fixtures/cnoi/`` (synthetic, see its README) and small
hand-made CNOI files; prices come from the FIXTURE yfinance stand-in. Tolerance: none — counts,
rows, paths and texts are compared exactly; CNOI against its weighted dimensions within 0.05
(dimensions are rounded to 0.1 and CNOI to 0.01 in the FIXTURE).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from alphalab.config import load_params
from alphalab.studies import cli, switch
from alphalab.studies import cnoi as cn
from alphalab.studies.prepare import prepare_cnoi
from alphalab.studies.prices import StudyInputError
from tests.cnoi.fixture import FILES, HERE, FakeYahoo, build_fixture, factors_text
from tests.conftest import REPO

HEADER = "cik,accession,form,filing_date,CNOI,D,G,R,J,T,S,X"


def _root(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    for name in ("params.yaml", "dvc.yaml"):
        shutil.copy2(REPO / name, root / name)
    shutil.copytree(REPO / "studies" / "cnoi", root / "studies" / "cnoi")
    return root


def _write(tmp_path: Path, body: str, name: str = "cnoi.csv") -> Path:
    p = tmp_path / name
    p.write_text(body)
    return p


# --------------------------------------------------------------------------------------------
# the FIXTURE itself
# --------------------------------------------------------------------------------------------
def test_fixture_files_are_what_the_generator_writes(tmp_path: Path) -> None:
    from tests.cnoi.fixture import write_fixture

    fresh = write_fixture(tmp_path)
    for key, path in fresh.items():
        assert path.read_bytes() == (HERE / FILES[key]).read_bytes(), f"{key} drifted: regenerate"
    assert "FIXTURE" in (HERE / "README.md").read_text()
    assert factors_text(build_fixture()).startswith("FIXTURE (synthetic)")


def test_fixture_cnoi_is_its_weighted_dimensions() -> None:
    f = pd.read_csv(HERE / FILES["cnoi"])
    implied = 0.2 * (f["D"] + f["G"] + f["R"]) + 0.1 * (f["J"] + f["T"] + f["S"] + f["X"])
    assert np.abs(f["CNOI"] - implied).max() <= 0.05
    assert f[list("DGRJTSX")].min().min() >= 0 and f[list("DGRJTSX")].max().max() <= 100
    assert f.groupby("cik").size().eq(11).all() and f["cik"].nunique() == 42
    assert f["accession"].is_unique


# --------------------------------------------------------------------------------------------
# reading and checking the CNOI file
# --------------------------------------------------------------------------------------------
def test_read_keeps_cells_and_lines(tmp_path: Path) -> None:
    body = (
        "CIK,Accession,Form,Filing_Date,cnoi,d,g,r,j,t,s,x,acceptanceDateTime,Ticker\n"
        "0000846617,a-1,10-K,2023-02-10,20.00,20,20,20,20,20,20,20,2023-02-10T16:01:00,BPOP\n"
        "\n"
        "846617.0,a-2,10-Q,2023-05-09,21.50,25,20,20,20,20,20,20,,\n"
    )
    got = cn.read_cnoi(_write(tmp_path, body))
    f = got.frame
    assert list(f.columns[:5]) == ["cik", "accession", "form", "filing_date", "CNOI"]
    assert "accepted_at" in f.columns and "ticker" in f.columns
    assert f["cik"].tolist() == ["846617", "846617"]
    assert f["CNOI"].tolist() == ["20.00", "21.50"]  # text, as in the file
    assert f[cn.ROW].tolist() == [2, 4]  # the blank line 3 is skipped, lines kept
    assert any("leading zeros" in n for n in got.notes)
    assert any("'cnoi' read as 'CNOI'" in n for n in got.notes)


def test_read_errors_name_file_line_and_column(tmp_path: Path) -> None:
    with pytest.raises(cn.CnoiFileError, match=r"cnoi.csv:1:X: -: required column absent"):
        cn.read_cnoi(
            _write(tmp_path, "cik,filing_date,CNOI,D,G,R,J,T,S\n1,2023-01-05,1,1,1,1,1,1,1\n")
        )
    with pytest.raises(cn.CnoiFileError, match=r"cnoi.csv:3:cik: 'BPOP': not an integer CIK"):
        cn.read_cnoi(
            _write(
                tmp_path,
                f"{HEADER}\n1,a,10-K,2023-01-05,1,1,1,1,1,1,1,1\nBPOP,b,10-K,2023-01-05,1,1,1,1,1,1,1,1\n",
            )
        )
    with pytest.raises(cn.CnoiFileError, match="file not found"):
        cn.read_cnoi(tmp_path / "nope.csv")


def test_checks_find_each_problem_row(tmp_path: Path) -> None:
    body = "\n".join(
        [
            HEADER,
            "1,a-1,10-K,2023-02-10,20.00,20,20,20,20,20,20,20",  # line 2: fine
            "1,a-1,10-K,2023-02-10,20.00,20,20,20,20,20,20,20",  # line 3: same filing again
            "2,b-1,10-K/A,2023-02-10,20.00,20,20,20,20,20,20,20",  # line 4: amendment
            "3,c-1,10-Q,2023-05-10,25.00,20,20,20,20,20,20,20",  # line 5: CNOI ≠ weighted dims
            "4,d-1,10-Q,2023-05-10,40.00,120,20,20,20,20,20,20",  # line 6: D > 100 (CNOI consistent)
            "5,e-1,10-Q,2021-05-10,20.00,20,20,20,20,20,20,20",  # line 7: before the window
            "6,f-1,10-Q,someday,20.00,20,20,20,20,20,20,n/a",  # line 8: bad date, X not a number
        ]
    )
    cnoi = cn.read_cnoi(_write(tmp_path, body + "\n"))
    got = {
        c.rule: c.rows
        for c in cn.cnoi_checks(
            cnoi, window=(pd.Timestamp("2022-01-01"), pd.Timestamp("2025-12-31"))
        )
    }
    assert got == {
        "duplicate_filing": [3],
        "form": [4],
        "not_a_number": [8],
        "score_mismatch": [5],
        "dimension_range": [6],
        "bad_filing_date": [8],
        "outside_window": [7],
    }


def test_signal_frame_keeps_every_row_and_names_unmapped(tmp_path: Path) -> None:
    from alphalab.data.sec import map_ciks, parse_company_tickers

    body = f"{HEADER},ticker\n1,a,10-K,2023-02-10,20,20,20,20,20,20,20,20,AAA-PB\n2,b,10-K,2023-02-11,20,20,20,20,20,20,20,20,\n"
    cnoi = cn.read_cnoi(_write(tmp_path, body))
    lines = parse_company_tickers({"0": {"cik_str": 1, "ticker": "AAA", "title": "A"}})
    mapping = map_ciks(cnoi.ciks, lines, file_tickers=cn.file_tickers(cnoi))
    sig = cn.signal_frame(cnoi, mapping)
    assert sig["ticker"].tolist() == ["AAA", "UNMAPPED-CIK0000000002"]
    assert sig[cn.FILE_TICKER].tolist() == ["AAA-PB", ""]
    assert len(sig) == len(cnoi.frame) and sig.columns[0] == "ticker"
    detail = cn.unmapped_detail(cnoi, mapping.unmapped)
    assert detail[["cik", "filings", "placeholder"]].values.tolist() == [
        [2, 1, "UNMAPPED-CIK0000000002"]
    ]


# --------------------------------------------------------------------------------------------
# switching
# --------------------------------------------------------------------------------------------
def test_render_params_fills_slots_only(tmp_path: Path) -> None:
    text = (REPO / "studies/cnoi/params.yaml").read_text()
    out = switch.render_params(text, {"signal": "x/y.csv", "factors": {"source": "none"}})
    doc = yaml.safe_load(out)
    assert doc["data"]["files"]["signal"]["path"] == "x/y.csv"
    assert doc["data"]["files"]["signal"]["columns"] == {
        "entity": "cik",
        "event_date": "filing_date",
        "score": "CNOI",
    }
    assert out.count("\n") == text.count("\n") and "# @signal" in out
    with pytest.raises(switch.StudyError, match="slot @nope not found"):
        switch.render_params(text, {"nope": 1})


def test_cnoi_study_params_have_every_section_the_pipeline_needs() -> None:
    p = load_params(REPO / "studies/cnoi/params.yaml")
    assert p.study.name == "cnoi" and p.data.source == "files" and p.signal.kind == "file"
    assert {k: v.weight for k, v in p.signal.dimensions.items()} == cn.WEIGHTS
    assert p.backtest.rebalance == "availability" and p.backtest.n_groups == 4
    assert [str(d) for d in p.events.dates] == ["2023-03-10"]
    assert str(p.events.estimation_end) == "2023-01-31"
    assert p.regressions.frequency in ("availability", "quarterly")
    assert p.data.files is not None and p.data.files.signal is not None
    assert p.data.files.signal.columns == {
        "entity": "cik",
        "event_date": "filing_date",
        "score": "CNOI",
    }


@pytest.fixture
def prepared(tmp_path: Path) -> tuple[Path, FakeYahoo, object]:
    root = _root(tmp_path)
    fake = FakeYahoo()
    done = prepare_cnoi(
        root=root,
        cnoi=HERE / FILES["cnoi"],
        tickers_map=HERE / FILES["sec"],
        overrides=HERE / FILES["overrides"],
        factors=HERE / FILES["factors"],
        downloader=fake,
    )
    return root, fake, done


def test_use_cnoi_writes_inputs_and_valid_params(prepared: tuple) -> None:
    root, fake, done = prepared
    p = load_params(root / "params.yaml")
    assert p.study.name == "cnoi"
    files = p.data.files
    for table in (files.prices, files.benchmark, files.signal):
        assert (root / table.path).is_file(), table.path
    assert files.prices.path.startswith("data/snapshots/yfinance/")
    assert p.data.factors.source == "french"
    assert p.backtest.n_groups == 4 and p.robustness.n_groups == [3, 4, 5]
    sig = pd.read_csv(root / files.signal.path, dtype=str, keep_default_na=False)
    raw = pd.read_csv(HERE / FILES["cnoi"], dtype=str, keep_default_na=False)
    assert len(sig) == len(raw)  # nothing dropped
    assert sig["accession"].tolist() == raw["accession"].tolist()
    assert (sig["ticker_in_file"] == raw["ticker"]).all()
    unmapped = sig[sig["ticker"].str.startswith("UNMAPPED-CIK")]
    assert sorted(unmapped["cik"].unique()) == ["9900041", "9900042"] and len(unmapped) == 22
    assert not sig["ticker"].str.contains(r"-P|FXACP", regex=True).any()  # no preferred line
    assert set(sig.loc[sig["cik"] == "9900002", "ticker"]) == {"FXAB"}  # file said FXAB-PN
    assert set(sig.loc[sig["cik"] == "9900005", "ticker"]) == {"FXAE"}  # reviewed override
    assert len(fake.calls) == 2  # prices + benchmark, once each
    md = done.report_path.read_text()
    assert "9900041" in md and "9900042" in md and "UNMAPPED-CIK0009900041" in md
    assert "FXAB-PN; replaced by the SEC common line FXAB" in md
    bench = pd.read_parquet(root / files.benchmark.path)
    assert list(bench.columns) == ["date", "ret", "rf"] and bench["rf"].notna().all()


def test_rerun_reuses_snapshots_and_keeps_paths(prepared: tuple) -> None:
    root, fake, done = prepared
    again = prepare_cnoi(
        root=root,
        cnoi=HERE / FILES["cnoi"],
        tickers_map=HERE / FILES["sec"],
        overrides=HERE / FILES["overrides"],
        factors=HERE / FILES["factors"],
        downloader=fake,
        offline=True,
    )
    assert len(fake.calls) == 2  # no new download: the snapshot is reused offline
    assert again.signal_path == done.signal_path
    assert again.summary["params_values"] == done.summary["params_values"]
    assert len(list(done.signal_path.parent.glob("signal.*.csv"))) == 1


def test_switch_back_to_default_restores_params(tmp_path: Path) -> None:
    root = _root(tmp_path)
    before = (root / "params.yaml").read_text()
    prepare_cnoi(
        root=root,
        cnoi=HERE / FILES["cnoi"],
        tickers_map=HERE / FILES["sec"],
        overrides=HERE / FILES["overrides"],
        downloader=FakeYahoo(),
    )
    assert (root / switch.SAVED_DIR / "default.params.yaml").read_text() == before
    back = switch.use_default(root)
    assert back.study == "default" and (root / "params.yaml").read_text() == before


def test_default_params_fall_back_to_schema_defaults(tmp_path: Path) -> None:
    root = _root(tmp_path)
    shutil.copy2(REPO / "studies/cnoi/params.yaml", root / "params.yaml")
    back = switch.use_default(root)
    assert back.params_source == "schema defaults" and back.study == "default"
    assert load_params(root / "params.yaml").data.source == "sample"
    assert (root / switch.SAVED_DIR / "cnoi.params.yaml").is_file()


@pytest.mark.parametrize(
    ("names", "groups"), [(12, 4), (40, 4), (49, 4), (50, 5), (99, 9), (100, 10), (400, 10)]
)
def test_groups_follow_the_cross_section(names: int, groups: int) -> None:
    from alphalab.studies.prepare import groups_for

    assert groups_for(names) == groups


def test_offline_without_snapshot_or_files_says_what_to_do(tmp_path: Path) -> None:
    root = _root(tmp_path)
    before = (root / "params.yaml").read_text()
    with pytest.raises(StudyInputError, match=r"offline.*--prices PATH"):
        prepare_cnoi(
            root=root,
            cnoi=HERE / FILES["cnoi"],
            tickers_map=HERE / FILES["sec"],
            offline=True,
        )
    assert (root / "params.yaml").read_text() == before  # untouched on error


def test_offline_with_own_price_files(tmp_path: Path) -> None:
    root = _root(tmp_path)
    fake = FakeYahoo()
    wide = fake(tickers=["FXAA", "FXAB", "^GSPC"], start="2022-01-01", end="2026-01-01")["Close"]
    prices = wide[["FXAA", "FXAB"]].stack().rename("close").reset_index()
    prices.columns = ["date", "ticker", "close"]
    prices.to_csv(tmp_path / "prices.csv", index=False)
    wide[["^GSPC"]].rename(columns={"^GSPC": "close"}).reset_index(names="date").to_csv(
        tmp_path / "sp500.csv", index=False
    )
    done = prepare_cnoi(
        root=root,
        cnoi=HERE / FILES["cnoi"],
        tickers_map=HERE / FILES["sec"],
        overrides=HERE / FILES["overrides"],
        prices=tmp_path / "prices.csv",
        benchmark=tmp_path / "sp500.csv",
        offline=True,
    )
    status = done.prices.status.set_index("ticker")["status"]
    assert status["FXAA"] == "ok" and status["FXAC"] == "missing"
    assert len(done.summary["prices"]["missing"]) == 38
    p = load_params(root / "params.yaml")
    assert Path(p.data.files.prices.path) == (tmp_path / "prices.csv").resolve()
    bench = pd.read_parquet(root / p.data.files.benchmark.path)
    assert bench["rf"].isna().all()  # no factors file: rf stays missing, never filled
    assert "rf unavailable" in done.summary["prices"]["rf"]


def test_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _root(tmp_path)
    monkeypatch.setenv("ALPHALAB_ROOT", str(root))
    assert cli.main(["list"]) == 0
    assert capsys.readouterr().out.split() == ["*", "default", "cnoi"]
    assert cli.main(["use", "cnoi"]) == 2
    assert "--cnoi PATH" in capsys.readouterr().err
    assert cli.main(["use", "nope"]) == 1
    assert "unknown study 'nope'" in capsys.readouterr().err
    assert cli.main(["use", "default", "--cnoi", "x.csv"]) == 2
    assert cli.main(["use", "cnoi", "--cnoi", str(tmp_path / "missing.csv"), "--offline"]) == 1
    assert "file not found" in capsys.readouterr().err
    assert cli.main(["bogus"]) == 2
