"""The params schema rejects bad values with the key path, the value and the rule."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from alphalab import config
from alphalab.cli import main

REPO = Path(__file__).resolve().parents[1]


def problems(raw: dict) -> list[str]:
    with pytest.raises(config.ParamsError) as info:
        config.validate_params(raw)
    return info.value.problems


def test_repo_params_valid() -> None:
    p = config.load_params(REPO / "params.yaml")
    assert p.data.source == "sample"
    assert p.study.name == "default"


@pytest.mark.parametrize(
    ("raw", "fragments"),
    [
        ({"data": {"sorce": "sample"}}, ["data.sorce", "unknown key"]),
        ({"bogus": {}}, ["bogus", "unknown key"]),
        (
            {"data": {"start": "2020-01-01", "end": "2019-01-01"}},
            ["data.start (2020-01-01)", "before data.end"],
        ),
        ({"data": {"start": "not a date"}}, ["data.start", "'not a date'", "date"]),
        ({"data": {"source": "bloomberg"}}, ["data.source", "'bloomberg'", "'sample'"]),
        (
            {"backtest": {"n_groups": 1}},
            ["backtest.n_groups", "value 1", "greater than or equal to 2"],
        ),
        ({"backtest": {"lag": -1}}, ["backtest.lag", "value -1", "greater than or equal to 0"]),
        ({"backtest": {"n_groups": "five"}}, ["backtest.n_groups", "'five'", "valid integer"]),
        ({"backtest": {"horizons": [0, 5]}}, ["backtest.horizons", "positive"]),
        ({"backtest": {"weighting": "cap"}}, ["backtest.weighting", "'cap'", "'equal'"]),
        ({"data": {"source": "files"}}, ["data.files section is missing"]),
        ({"data": {"source": "yfinance"}}, ["data.yfinance section is missing"]),
        ({"data": {"yfinance": {"tickers": []}}}, ["data.yfinance.tickers", "at least 1"]),
        (
            {"data": {"yfinance": {"tickers": ["A"], "timeout_s": 0}}},
            ["data.yfinance.timeout_s", "greater than 0"],
        ),
        ({"data": {"factors": {"source": "french"}}}, ["needs factors.path"]),
        ({"data": {"simulate": {"missing_rate": 0.9}}}, ["data.simulate.missing_rate", "0.9"]),
        (
            {"validate": {"policy": {"duplicates": "ignore"}}},
            ["validate.policy.duplicates", "'ignore'"],
        ),
        (
            {"signal": {"dimensions": {"mom": {"weight": -1}}}},
            ["signal.dimensions.mom.weight", "-1"],
        ),
        ({"panel": {"max_age_sessions": 0}}, ["panel.max_age_sessions", "value 0"]),
    ],
)
def test_rejections_name_path_value_rule(raw: dict, fragments: list[str]) -> None:
    text = "\n".join(problems(raw))
    for frag in fragments:
        assert frag in text, f"{frag!r} not in {text!r}"


def test_all_problems_reported_at_once() -> None:
    lines = problems({"backtest": {"n_groups": 1, "lag": -2, "extra": 1}})
    assert len(lines) == 3


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    f = tmp_path / "params.yaml"
    f.write_text("data:\n  source: sample\n   start: x\n")
    with pytest.raises(config.ParamsError) as info:
        config.load_params(f)
    assert f"{f}:3" in info.value.problems[0]


def test_top_level_must_be_mapping(tmp_path: Path) -> None:
    f = tmp_path / "params.yaml"
    f.write_text("- a\n- b\n")
    with pytest.raises(config.ParamsError, match="mapping"):
        config.load_params(f)


def test_cli_params_check_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump({"data": {"source": "sample"}}))
    assert main(["params", "check", "--file", str(good)]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"backtest": {"n_groups": 0}}))
    assert main(["params", "check", "--file", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "backtest.n_groups" in err and "value 0" in err


def test_params_hash_ignores_formatting() -> None:
    a = config.validate_params({"backtest": {"n_groups": 10, "lag": 1}})
    b = config.validate_params({"backtest": {"lag": 1, "n_groups": 10}})
    assert config.params_hash(a) == config.params_hash(b)
    assert config.params_hash(a) != config.params_hash(config.Params())
    assert config.params_diff(a) == {"backtest.n_groups": 10}


def test_root_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "params.yaml").write_text("{}")
    (tmp_path / "dvc.yaml").write_text("stages: {}")
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    monkeypatch.delenv("ALPHALAB_ROOT", raising=False)
    monkeypatch.chdir(sub)
    assert config.repo_root() == tmp_path.resolve()
    monkeypatch.setenv("ALPHALAB_ROOT", str(sub))
    assert config.repo_root() == sub.resolve()
    assert config.Paths().raw == sub.resolve() / "data" / "raw"


def test_stage_settings_overlays_injected_sections(tmp_path: Path) -> None:
    (tmp_path / "params.yaml").write_text(
        yaml.safe_dump({"backtest": {"n_groups": 4}, "data": {"source": "sample"}})
    )
    paths = config.Paths(tmp_path)
    assert config.stage_settings(None, paths).backtest.n_groups == 4
    got = config.stage_settings({"backtest": {"n_groups": 7, "lag": 2}}, paths)
    assert (got.backtest.n_groups, got.backtest.lag) == (7, 2)
    with pytest.raises(config.ParamsError, match=r"backtest\.n_groups"):
        config.stage_settings({"backtest": {"n_groups": 0}}, paths)
