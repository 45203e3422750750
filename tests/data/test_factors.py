"""The strict Ken French parser on files in the data library's real format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from alphalab.data import factors as ff

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "french"


def test_monthly_csv_parsed_to_decimals_month_end() -> None:
    df = ff.parse_french(FIX / "F-F_Research_Data_Factors.CSV")
    assert df.attrs["frequency"] == "monthly"
    assert list(df.columns) == ["date", "mkt_rf", "smb", "hml", "rf"]
    assert df["date"].iloc[0] == pd.Timestamp("1926-07-31")
    assert df["date"].iloc[-1] == pd.Timestamp("2018-11-30")
    assert len(df) == 1109  # the annual block after the blank line is not read
    np.testing.assert_allclose(
        df.iloc[0, 1:].to_numpy(dtype=float), [0.0296, -0.0230, -0.0287, 0.0022], atol=1e-12
    )


def test_parse_matches_embedded_arch_copy() -> None:
    parsed = ff.parse_french(FIX / "F-F_Research_Data_Factors.CSV")
    emb = ff.load_embedded_factors()
    np.testing.assert_allclose(
        parsed[["mkt_rf", "smb", "hml", "rf"]].to_numpy(),
        emb[["mkt_rf", "smb", "hml", "rf"]].to_numpy(),
        atol=1e-12,
    )


def test_zip_equals_csv() -> None:
    a = ff.parse_french(FIX / "F-F_Research_Data_Factors.CSV")
    b = ff.parse_french(FIX / "F-F_Research_Data_Factors_CSV.zip")
    pd.testing.assert_frame_equal(a, b)


def test_momentum_file_with_padded_header_and_merge() -> None:
    table = ff.load_french_factors(
        FIX / "F-F_Research_Data_Factors.CSV", FIX / "F-F_Momentum_Factor.CSV"
    )
    assert table["mom"].notna().sum() == 819
    assert table.loc[table["date"] == "1949-01-31", "mom"].item() == pytest.approx(-0.0292)


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("bad_decimals.CSV", "look like decimals"),
        ("bad_annual_mixed.CSV", "mixed frequencies"),
        ("bad_truncated.CSV", "truncated"),
    ],
)
def test_malformed_files_rejected_with_line(name: str, fragment: str) -> None:
    with pytest.raises(ff.FrenchFormatError, match=fragment) as info:
        ff.parse_french(FIX / name)
    assert name in str(info.value)


def test_annual_only_block_rejected(tmp_path: Path) -> None:
    f = tmp_path / "annual.csv"
    f.write_text("title\n\n,Mkt-RF,SMB,HML,RF\n1927,   29.47,   -2.46,   -3.75,    3.12\n")
    with pytest.raises(ff.FrenchFormatError, match="annual rows"):
        ff.parse_french(f)


def test_percent_above_100_rejected(tmp_path: Path) -> None:
    f = tmp_path / "big.csv"
    rows = "\n".join(
        f"1990{m:02d},  {v},  1.0,  1.0,  0.3"
        for m, v in zip(range(1, 13), [150.0] + [3.0, -4.0] * 5 + [2.0], strict=True)
    )
    f.write_text(f"t\n\n,Mkt-RF,SMB,HML,RF\n{rows}\n")
    with pytest.raises(ff.FrenchFormatError, match="above 100 percent"):
        ff.parse_french(f)


def test_missing_codes_become_nan(tmp_path: Path) -> None:
    f = tmp_path / "miss.csv"
    rows = "\n".join(
        f"1990{m:02d},  {v},  -99.99,  1.0,  0.3"
        for m, v in zip(range(1, 13), [3.0, -4.0] * 6, strict=True)
    )
    f.write_text(f"t\n\n,Mkt-RF,SMB,HML,RF\n{rows}\n")
    df = ff.parse_french(f)
    assert df["smb"].isna().all()


def test_daily_file(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    days = pd.bdate_range("2020-01-02", periods=40)
    rows = "\n".join(
        f"{d:%Y%m%d},{a:6.2f},{b:6.2f},{c:6.2f},  0.01"
        for d, (a, b, c) in zip(days, rng.normal(0, 1.2, (40, 3)), strict=True)
    )
    f = tmp_path / "daily.csv"
    f.write_text(
        f"This file was created by CMPT_ME_BEME_RETS_DAILY\n\n,Mkt-RF,SMB,HML,RF\n{rows}\n\nCopyright\n"
    )
    df = ff.parse_french(f)
    assert df.attrs["frequency"] == "daily" and df["date"].iloc[0] == pd.Timestamp("2020-01-02")


def test_embedded_consistency_overlap() -> None:
    c = ff.embedded_consistency()
    assert c["first"] == "1949-01-31" and c["last"] == "2017-03-31" and c["months"] == 819
    assert c["max_abs_diff_rf"] < 1e-12  # RF identical across vintages
    assert c["max_abs_diff_mkt_rf"] < 0.001  # revisions are small
