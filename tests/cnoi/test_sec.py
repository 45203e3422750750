"""CIK → ticker (alphalab.data.sec): the common-stock line, overrides, unmapped CIKs, snapshots.

Real symbol patterns from the SEC file are used where the issue names them (``C``/``C-PN``,
``COF``/``COF-PN``, ``FULT``/``FULTP``); the CIK integers next to them only group the lines
(the tests depend on the ticker patterns alone). Tolerance: none — every check is exact.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alphalab.data import sec

CITI, CAPONE, FULTON = 831001, 927628, 700564


def _doc(lines: list[tuple[int, str, str]]) -> dict:
    return {str(i): {"cik_str": c, "ticker": t, "title": n} for i, (c, t, n) in enumerate(lines)}


@pytest.fixture
def lines() -> pd.DataFrame:
    return sec.parse_company_tickers(
        _doc(
            [
                (CITI, "C-PN", "CITIGROUP INC"),  # preferred listed first
                (CITI, "C", "CITIGROUP INC"),
                (CAPONE, "COF", "CAPITAL ONE FINANCIAL CORP"),
                (CAPONE, "COF-PN", "CAPITAL ONE FINANCIAL CORP"),
                (CAPONE, "COF-PI", "CAPITAL ONE FINANCIAL CORP"),
                (FULTON, "FULTP", "FULTON FINANCIAL CORP"),  # Nasdaq fifth-letter preferred
                (FULTON, "FULT", "FULTON FINANCIAL CORP"),
                (1067983, "BRK-B", "BERKSHIRE HATHAWAY INC"),
                (1067983, "BRK-A", "BERKSHIRE HATHAWAY INC"),
                (111, "ONLY-PB", "DEPOSITARY ONLY"),
            ]
        )
    )


@pytest.mark.parametrize(
    ("ticker", "siblings", "kind"),
    [
        ("C-PN", (), "preferred"),
        ("COF-PN", (), "preferred"),
        ("JPM.PRC", (), "preferred"),
        ("BAC-PB", (), "preferred"),
        ("FULTP", ("FULT",), "preferred"),
        ("ZIONO", ("ZION",), "preferred"),
        ("ABCDW", ("ABCD",), "warrant"),
        ("XYZ-WS", (), "warrant"),
        ("XYZ-U", (), "unit"),
        ("XYZ-RT", (), "right"),
        ("BRK-B", (), "class"),
        ("JPM", (), "common"),
        ("FULTP", (), "common"),  # no base line: cannot tell (a reviewed override decides)
        ("GOOGL", ("GOOG",), "other"),  # share class on Nasdaq: not preferred, not chosen first
    ],
)
def test_share_line_kind(ticker: str, siblings: tuple[str, ...], kind: str) -> None:
    assert sec.share_line_kind(ticker, siblings=siblings) == kind


def test_common_line_is_chosen_never_preferred(lines: pd.DataFrame) -> None:
    chosen = sec.choose_common_lines(lines).set_index("cik")
    assert chosen.loc[CITI, "ticker"] == "C"
    assert chosen.loc[CAPONE, "ticker"] == "COF"
    assert chosen.loc[FULTON, "ticker"] == "FULT"
    assert chosen.loc[1067983, "ticker"] == "BRK-B"  # first class line in file order
    assert chosen.loc[1067983, "alternatives"] == "BRK-A"
    assert chosen.loc[CITI, "rejected"] == "C-PN:preferred"
    assert chosen.loc[111, "ticker"] is None and chosen.loc[111, "rule"] == "no_common_line"


def test_both_sec_layouts_and_csv(tmp_path: Path) -> None:
    exchange = {
        "fields": ["cik", "name", "ticker", "exchange"],
        "data": [[CITI, "CITIGROUP INC", "C-PN", "NYSE"], [CITI, "CITIGROUP INC", "C", "NYSE"]],
    }
    p = tmp_path / "company_tickers_exchange.json"
    p.write_text(json.dumps(exchange))
    got = sec.load_company_tickers(p)
    assert got[["cik", "ticker", "order"]].values.tolist() == [[CITI, "C-PN", 0], [CITI, "C", 1]]
    assert got["exchange"].tolist() == ["NYSE", "NYSE"]
    csv = tmp_path / "map.csv"
    csv.write_text("CIK,Symbol,Name\n0000831001,c,CITIGROUP INC\n")
    got = sec.load_company_tickers(csv)
    assert got[["cik", "ticker", "title"]].values.tolist() == [[CITI, "C", "CITIGROUP INC"]]


def test_bad_map_names_the_row(tmp_path: Path) -> None:
    with pytest.raises(sec.SecMapError, match=r"row 2: cik 'x'"):
        sec.parse_company_tickers(_doc([(1, "A", "a")]) | {"1": {"cik_str": "x", "ticker": "B"}})
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    with pytest.raises(sec.SecMapError, match=r"broken.json:1:2: not valid JSON"):
        sec.load_company_tickers(bad)


def _overrides(tmp_path: Path, body: str) -> Path:
    p = tmp_path / "overrides.csv"
    p.write_text("# reviewed\ncik,ticker,reason,reviewed_by\n" + body)
    return p


def test_overrides_are_read_and_checked(tmp_path: Path) -> None:
    ok = sec.read_overrides(
        _overrides(tmp_path, "111,only,common trades as ONLY,me\n222,,shell,me\n")
    )
    assert ok["ticker"].tolist() == ["ONLY", None] and ok["cik"].tolist() == [111, 222]
    bad = _overrides(
        tmp_path,
        "111,ONLY-PB,preferred,me\n111,X,dup,me\nabc,Y,bad cik,me\n333,Z,,me\n",
    )
    with pytest.raises(sec.SecMapError) as err:
        sec.read_overrides(bad)
    text = str(err.value)
    assert ":3:ticker: 'ONLY-PB': a preferred line" in text
    assert ":4:cik: 111: listed twice (first on line 3)" in text
    assert ":5:cik: 'abc': not an integer CIK" in text
    assert ":6:reason: 333: every override needs a reviewed reason" in text
    header_only = tmp_path / "x.csv"
    header_only.write_text("# note\n\ncik,ticker\n")
    with pytest.raises(sec.SecMapError, match=r"x.csv:3: missing column\(s\) \['reason'\]"):
        sec.read_overrides(header_only)


def test_map_ciks_precedence_and_unmapped(lines: pd.DataFrame, tmp_path: Path) -> None:
    over = sec.read_overrides(
        _overrides(
            tmp_path, "111,ONLY,reviewed: common is ONLY,me\n999,,excluded: no listed equity,me\n"
        )
    )
    out = sec.map_ciks(
        [CITI, CAPONE, FULTON, 111, 999, 555, 556, CITI],
        lines,
        overrides=over,
        file_tickers={CITI: ["C-PN"], 555: ["ABC"], 556: ["XYZ-PA"]},
    )
    m = out.mapped.set_index("cik")
    assert m.loc[CITI, "ticker"] == "C" and m.loc[CITI, "source"] == "sec"
    assert "replaced by the SEC common line C" in m.loc[CITI, "note"]
    assert m.loc[111, "ticker"] == "ONLY" and m.loc[111, "source"] == "override"
    assert m.loc[555, "ticker"] == "ABC" and m.loc[555, "source"] == "file"
    u = out.unmapped.set_index("cik")
    assert set(u.index) == {999, 556}
    assert u.loc[999, "reason"].startswith("excluded by override")
    assert "not common lines" in u.loc[556, "reason"]
    assert out.ticker_map[FULTON] == "FULT"
    assert out.to_dict()["n_unmapped"] == 2


@settings(max_examples=40, deadline=None)
@given(
    ciks=st.lists(st.integers(1, 30), min_size=1, max_size=40),
    in_map=st.sets(st.integers(1, 30)),
    preferred_only=st.sets(st.integers(1, 30)),
)
def test_every_cik_is_mapped_or_listed_never_dropped(
    ciks: list[int], in_map: set[int], preferred_only: set[int]
) -> None:
    rows = []
    for c in sorted(in_map):
        rows.append((c, f"P{c}-PA", "x"))
        if c not in preferred_only:
            rows.append((c, f"T{c}", "x"))
    table = sec.parse_company_tickers(_doc(rows)) if rows else None
    out = sec.map_ciks(ciks, table)
    mapped, unmapped = set(out.mapped["cik"]), set(out.unmapped["cik"])
    assert mapped | unmapped == set(ciks) and not mapped & unmapped
    assert all(sec.share_line_kind(t) in sec.COMMON_KINDS for t in out.mapped["ticker"])
    assert mapped == set(ciks) & (in_map - preferred_only)


class FakeSec:
    """A fake HTTP transport for sec.gov (records calls; optional delay or failure)."""

    def __init__(self, body: bytes, *, delay: float = 0.0, fail: Exception | None = None) -> None:
        self.body, self.delay, self.fail = body, delay, fail
        self.calls: list[dict] = []
        self.release = threading.Event()

    def __call__(self, url: str, headers: dict, timeout_s: float) -> bytes:
        self.calls.append({"url": url, "headers": dict(headers), "timeout": timeout_s})
        if self.fail is not None:
            raise self.fail
        if self.delay:
            self.release.wait(self.delay)
        return self.body


def test_fetch_snapshots_then_reuses_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(sec.USER_AGENT_ENV, "Research Lab research@example.org")
    body = json.dumps(_doc([(CITI, "C-PN", "CITIGROUP INC"), (CITI, "C", "CITIGROUP INC")]))
    fake = FakeSec(body.encode())
    first, snap, online = sec.fetch_company_tickers(folder=tmp_path, fetcher=fake)
    assert online and snap.is_file() and len(first) == 2
    assert fake.calls[0]["headers"]["User-Agent"] == "Research Lab research@example.org"
    meta = json.loads(snap.with_name("company_tickers.meta.json").read_text())
    assert meta["n_lines"] == 2
    again, snap2, online2 = sec.fetch_company_tickers(folder=tmp_path, fetcher=fake)
    assert not online2 and snap2 == snap and len(fake.calls) == 1
    pd.testing.assert_frame_equal(first, again)
    _, snap3, online3 = sec.fetch_company_tickers(folder=tmp_path, fetcher=fake, refresh=True)
    assert online3 and snap3 != snap and len(fake.calls) == 2


def test_fetch_is_bounded_in_time(tmp_path: Path) -> None:
    slow = FakeSec(b"{}", delay=30.0)
    t0 = time.monotonic()
    with pytest.raises(sec.SecTimeout, match=r"no answer within 0.2 s.*--tickers-map"):
        sec.fetch_company_tickers(folder=tmp_path, fetcher=slow, timeout_s=0.2)
    assert time.monotonic() - t0 < 5
    slow.release.set()
    assert not list(tmp_path.rglob("company_tickers.json"))  # nothing snapshotted


def test_fetch_failures_say_how_to_work_offline(tmp_path: Path) -> None:
    with pytest.raises(sec.SecMapError, match=r"download failed.*offline"):
        sec.fetch_company_tickers(
            folder=tmp_path, fetcher=FakeSec(b"", fail=OSError("403 Forbidden"))
        )
    with pytest.raises(sec.SecMapError, match="not JSON"):
        sec.fetch_company_tickers(folder=tmp_path, fetcher=FakeSec(b"<html>blocked</html>"))
    assert sec.latest_sec_snapshot(tmp_path) is None
