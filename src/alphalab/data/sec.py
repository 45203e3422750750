"""CIK → ticker from the SEC's ``company_tickers.json``: the common-stock line, reviewed overrides.

The SEC publishes one row per *listed line* of a registrant, so one CIK can carry its common
stock next to preferred and depositary lines (``C`` and ``C-PN``, ``COF`` and ``COF-PN``,
``FULT`` and ``FULTP``), warrants or units — and a preferred line is sometimes listed first.
Mapping a bank to a preferred line prices a fixed-income-like security instead of the equity,
which is how the CNOI showcase got several banks wrong. So this module

- reads the file in either SEC layout (``company_tickers.json``: ``{"0": {"cik_str", "ticker",
  "title"}, …}``; ``company_tickers_exchange.json``: ``{"fields": […], "data": […]}``) or a
  user's CSV with ``cik`` and ``ticker`` columns, keeping the file order;
- classifies every line (:func:`share_line_kind`) and picks, per CIK, the **common-stock line**
  (:func:`choose_common_lines`): never a preferred, depositary, warrant, unit or rights line;
- applies a reviewed overrides CSV (``cik,ticker,reason``; an empty ticker excludes a CIK on
  purpose) before anything else (:func:`read_overrides`);
- returns every CIK it could not map, with the reason, next to the mapping
  (:class:`CikMapping`): nothing is dropped silently.

Online, :func:`fetch_company_tickers` downloads the file within a hard deadline (with the
``User-Agent`` the SEC requires) and snapshots it under ``data/snapshots/sec/`` like prices
(:mod:`alphalab.data.yahoo`); later runs reuse the snapshot offline unless ``refresh``.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import re
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from alphalab.data.yahoo import YahooTimeout, call_with_deadline
from alphalab.io import atomic_write_json, atomic_write_text

SEC_TICKERS_URL = "https://www.sec.gov/files/company_tickers.json"
USER_AGENT_ENV = "ALPHALAB_SEC_USER_AGENT"
SNAPSHOT_NAME = "company_tickers.json"

LineKind = Literal["common", "class", "preferred", "warrant", "unit", "right", "other"]
Fetcher = Callable[[str, Mapping[str, str], float], bytes]
"""``fetcher(url, headers, timeout_s) -> bytes``: the transport (tests inject fakes)."""

_SEPARATED = re.compile(r"^(?P<base>[A-Z0-9]+)[-./^$ ](?P<suffix>[A-Z0-9.]+)$")
_PREFERRED_SUFFIX = re.compile(r"^(P|PR)[A-Z]{0,2}$|^P\.?[A-Z]$|^PR\.?[A-Z]$")
_NASDAQ_FIFTH = {
    "P": "preferred",
    "O": "preferred",
    "N": "preferred",
    "M": "preferred",
    "W": "warrant",
    "U": "unit",
    "R": "right",
}
COMMON_KINDS: tuple[LineKind, ...] = ("common", "class")


class SecMapError(ValueError):
    """A ticker map, an overrides file or a download broke the rules (names file, row, value)."""


class SecTimeout(SecMapError):
    """The SEC download did not finish within its deadline."""


# --------------------------------------------------------------------------------------------
# reading the SEC formats
# --------------------------------------------------------------------------------------------
def parse_company_tickers(doc: Any, *, source: str = "company_tickers.json") -> pd.DataFrame:
    """The SEC JSON (either layout) as ``cik`` (int), ``ticker``, ``title``, ``order``.

    ``order`` is the 0-based position in the file; ``exchange`` is kept when present.

    Raises
    ------
    SecMapError
        When the document is neither SEC layout or a row lacks its CIK or ticker.
    """
    if isinstance(doc, Mapping) and "fields" in doc and "data" in doc:
        fields = [str(f).lower() for f in doc["fields"]]
        frame = pd.DataFrame(list(doc["data"]), columns=fields)
        frame = frame.rename(columns={"name": "title"})
    elif isinstance(doc, Mapping):
        rows = list(doc.values())
        if not all(isinstance(r, Mapping) for r in rows):
            raise SecMapError(f"{source}: not the SEC company_tickers layout (values not objects)")
        frame = pd.DataFrame(rows).rename(columns={"cik_str": "cik"})
    else:
        raise SecMapError(f"{source}: not the SEC company_tickers layout ({type(doc).__name__})")
    return _tidy_lines(frame, source)


def _tidy_lines(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    for col in ("cik", "ticker"):
        if col not in frame.columns:
            raise SecMapError(f"{source}: no {col!r} field (fields: {list(frame.columns)})")
    cik = pd.to_numeric(frame["cik"], errors="coerce")
    ticker = frame["ticker"].astype("string").str.strip().str.upper()
    bad = cik.isna() | (cik != cik.round()) | ticker.isna() | (ticker == "")
    if bad.any():
        i = int(bad.to_numpy().nonzero()[0][0])
        raise SecMapError(
            f"{source}: row {i + 1}: cik {frame['cik'].iloc[i]!r}, ticker "
            f"{frame['ticker'].iloc[i]!r}: every line needs an integer CIK and a ticker"
        )
    out = pd.DataFrame(
        {
            "cik": cik.astype("int64").to_numpy(),
            "ticker": ticker.astype("str").to_numpy(),
            "title": (frame["title"].astype("str").to_numpy() if "title" in frame.columns else ""),
            "order": range(len(frame)),
        }
    )
    if "exchange" in frame.columns:
        out["exchange"] = frame["exchange"].astype("str").to_numpy()
    return out


def load_company_tickers(path: str | Path) -> pd.DataFrame:
    """Read a ticker map file: SEC JSON (either layout) or a CSV with ``cik`` and ``ticker``.

    See :func:`parse_company_tickers` for the columns returned.
    """
    p = Path(path)
    if not p.is_file():
        raise SecMapError(f"{p}: ticker map not found")
    if p.suffix.lower() == ".json":
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise SecMapError(f"{p}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
        return parse_company_tickers(doc, source=str(p))
    frame = pd.read_csv(p, dtype="str", keep_default_na=False)
    frame.columns = [c.strip().lower() for c in frame.columns]
    frame = frame.rename(columns={"cik_str": "cik", "name": "title", "symbol": "ticker"})
    return _tidy_lines(frame, str(p))


# --------------------------------------------------------------------------------------------
# classifying lines and choosing the common stock
# --------------------------------------------------------------------------------------------
def share_line_kind(ticker: str, *, siblings: Iterable[str] = ()) -> LineKind:
    """Classify one listed line from its ticker (and the other tickers of the same CIK).

    - separated suffixes (``-``, ``.``, ``/``, ``^``, ``$``, space): ``P…``/``PR…`` preferred
      or depositary (``C-PN``, ``BAC-PB``, ``JPM.PRC``), ``W``/``WS``/``WT`` warrant,
      ``U``/``UN``/``UT`` unit, ``R``/``RT``/``RI`` rights, any other single letter a share
      class of the common (``BRK-B``), anything else ``other``;
    - Nasdaq fifth letters: a five-letter ticker whose first four letters are another line of
      the same CIK is that line's preferred (``P``, ``O``, ``N``, ``M``: ``FULTP``), warrant
      (``W``), unit (``U``) or right (``R``) — else ``other``;
    - everything else is ``common``.

    References
    ----------
    Nasdaq fifth-character symbol suffixes; NYSE/CQS suffix conventions for preferred,
    warrants, units and rights (as rendered with a dash in the SEC and Yahoo symbologies).
    """
    t = ticker.strip().upper()
    m = _SEPARATED.match(t)
    if m is not None:
        suffix = m.group("suffix").replace(".", "")
        if _PREFERRED_SUFFIX.match(suffix):
            return "preferred"
        if suffix in ("W", "WS", "WT", "WSA", "WSB"):
            return "warrant"
        if suffix in ("U", "UN", "UT"):
            return "unit"
        if suffix in ("R", "RT", "RI"):
            return "right"
        return "class" if len(suffix) == 1 else "other"
    others = {s.strip().upper() for s in siblings} - {t}
    if len(t) == 5 and t[:4] in others:
        return _NASDAQ_FIFTH.get(t[4], "other")  # type: ignore[return-value]
    return "common"


def classify_lines(lines: pd.DataFrame) -> pd.DataFrame:
    """``lines`` (from :func:`load_company_tickers`) with a ``kind`` column per line."""
    by_cik = lines.groupby("cik", sort=False)["ticker"].agg(list)
    kinds = [
        share_line_kind(t, siblings=by_cik[c])
        for t, c in zip(lines["ticker"], lines["cik"], strict=True)
    ]
    return lines.assign(kind=pd.Series(kinds, index=lines.index, dtype="str"))


def choose_common_lines(lines: pd.DataFrame) -> pd.DataFrame:
    """One row per CIK: the common-stock line, or none (with the reason).

    Preference: a plain ``common`` ticker over a share ``class`` (``BRK-B``); among equals the
    first in file order (the SEC lists the main line first for most registrants).

    Returns
    -------
    DataFrame
        ``cik``, ``ticker`` (None when no common line exists), ``title``, ``rule``
        (``common`` / ``class`` / ``no_common_line``), ``alternatives`` (the other common lines,
        ``|``-joined) and ``rejected`` (non-common lines with their kind, e.g.
        ``C-PN:preferred``).
    """
    kinds = classify_lines(lines)
    rows = []
    for cik, sub in kinds.groupby("cik", sort=False):
        sub = sub.sort_values("order", kind="stable")
        rank = sub["kind"].map({"common": 0, "class": 1}).fillna(9)
        ok = sub[rank < 9].assign(_rank=rank[rank < 9]).sort_values(["_rank", "order"])
        rejected = "|".join(
            f"{t}:{k}"
            for t, k in zip(sub["ticker"], sub["kind"], strict=True)
            if k not in ("common", "class")
        )
        chosen = ok["ticker"].iloc[0] if len(ok) else None
        rows.append(
            {
                "cik": int(cik),
                "ticker": chosen,
                "title": str(sub["title"].iloc[0]),
                "rule": str(ok["kind"].iloc[0]) if len(ok) else "no_common_line",
                "alternatives": "|".join(ok["ticker"].iloc[1:]),
                "rejected": rejected,
            }
        )
    out = pd.DataFrame(rows, columns=["cik", "ticker", "title", "rule", "alternatives", "rejected"])
    out["ticker"] = pd.Series([r["ticker"] for r in rows], index=out.index, dtype=object)
    return out


# --------------------------------------------------------------------------------------------
# overrides
# --------------------------------------------------------------------------------------------
def _read_commented_csv(path: Path) -> tuple[pd.DataFrame, int, list[int]]:
    """A small CSV without ``#`` comment and blank lines, as text, with each record's file line."""
    kept = [
        (n, line)
        for n, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not kept:
        raise SecMapError(f"{path}: no header (need cik,ticker,reason)")
    records = list(csv.reader([line for _, line in kept]))
    header = [h.strip().lower() for h in records[0]]
    body = [r + [""] * (len(header) - len(r)) for r in records[1:]]
    frame = pd.DataFrame(body, columns=header, dtype="str")
    return frame, kept[0][0], [n for n, _ in kept[1:]]


def read_overrides(path: str | Path) -> pd.DataFrame:
    """Read the reviewed overrides CSV: ``cik``, ``ticker`` (empty = exclude), ``reason``.

    Extra columns (e.g. ``reviewed_by``, ``reviewed_on``) are kept. Lines starting with ``#``
    are comments.

    Raises
    ------
    SecMapError
        A missing column, a non-integer CIK, a CIK listed twice, an empty reason, or a ticker
        that is a preferred, depositary, warrant, unit or rights line — each naming the line.
    """
    p = Path(path)
    if not p.is_file():
        raise SecMapError(f"{p}: overrides file not found")
    frame, header_line, line_of = _read_commented_csv(p)
    missing = [c for c in ("cik", "ticker", "reason") if c not in frame.columns]
    if missing:
        raise SecMapError(f"{p}:{header_line}: missing column(s) {missing}; need cik,ticker,reason")
    problems = []
    seen: dict[int, int] = {}
    ciks, tickers = [], []
    for i, row in zip(line_of, frame.itertuples(index=False), strict=True):
        cik_text, ticker, reason = (
            str(getattr(row, c)).strip() for c in ("cik", "ticker", "reason")
        )
        if not cik_text.isdigit():
            problems.append(f"{p}:{i}:cik: {cik_text!r}: not an integer CIK")
            ciks.append(-1)
            tickers.append(ticker)
            continue
        cik = int(cik_text)
        if cik in seen:
            problems.append(f"{p}:{i}:cik: {cik}: listed twice (first on line {seen[cik]})")
        seen.setdefault(cik, i)
        if not reason:
            problems.append(f"{p}:{i}:reason: {cik}: every override needs a reviewed reason")
        ticker = ticker.upper()
        kind = share_line_kind(ticker) if ticker else "common"
        if kind not in COMMON_KINDS:
            problems.append(
                f"{p}:{i}:ticker: {ticker!r}: a {kind} line, not the common stock "
                "(map the issuer to its common ticker)"
            )
        ciks.append(cik)
        tickers.append(ticker)
    if problems:
        raise SecMapError("bad overrides file:\n" + "\n".join(problems))
    out = frame.copy()
    out["cik"] = pd.Series(ciks, dtype="int64").to_numpy()
    out["ticker"] = pd.Series([t or None for t in tickers], index=out.index, dtype=object)
    return out


# --------------------------------------------------------------------------------------------
# mapping CIKs
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CikMapping:
    """The result of :func:`map_ciks`.

    Attributes
    ----------
    mapped : DataFrame
        One row per mapped CIK: ``cik``, ``ticker``, ``source`` (``override`` / ``sec`` /
        ``file``), ``title``, ``rule``, ``alternatives``, ``rejected``, ``file_tickers``
        (tickers the signal file itself gave, ``|``-joined) and ``note``.
    unmapped : DataFrame
        One row per CIK without a ticker: ``cik``, ``title``, ``reason``, ``rejected``,
        ``file_tickers``.
    """

    mapped: pd.DataFrame
    unmapped: pd.DataFrame

    @property
    def ticker_map(self) -> dict[int, str]:
        """CIK → common-stock ticker."""
        return dict(zip(self.mapped["cik"].astype(int), self.mapped["ticker"], strict=True))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (counts, mapped and unmapped rows)."""
        return {
            "n_mapped": len(self.mapped),
            "n_unmapped": len(self.unmapped),
            "by_source": {str(k): int(v) for k, v in self.mapped["source"].value_counts().items()},
            "mapped": self.mapped.to_dict(orient="records"),
            "unmapped": self.unmapped.to_dict(orient="records"),
        }


def map_ciks(
    ciks: Iterable[int],
    lines: pd.DataFrame | None,
    *,
    overrides: pd.DataFrame | None = None,
    file_tickers: Mapping[int, Iterable[str]] | None = None,
) -> CikMapping:
    """Map each CIK to its common-stock ticker.

    Order of precedence: the reviewed ``overrides`` (an empty ticker excludes the CIK); the
    common line of the SEC ``lines`` (:func:`choose_common_lines`); the ticker the signal file
    itself gives (``file_tickers``) when it is a common line. Where the file's ticker differs
    from the SEC common line, the SEC line wins and ``note`` says so (this is how preferred
    lines such as ``C-PN`` in a file get corrected).

    Parameters
    ----------
    ciks : iterable of int
        The CIKs to map (duplicates are ignored).
    lines : DataFrame or None
        From :func:`load_company_tickers` / :func:`fetch_company_tickers`; None when only the
        file's own tickers and the overrides are available.
    overrides : DataFrame, optional
        From :func:`read_overrides`.
    file_tickers : mapping of int → iterable of str, optional
        Tickers the signal file holds per CIK.

    Returns
    -------
    CikMapping
        Every CIK is in exactly one of ``mapped`` and ``unmapped``.
    """
    wanted = list(dict.fromkeys(int(c) for c in ciks))
    chosen = (
        choose_common_lines(lines[lines["cik"].isin(wanted)]).set_index("cik")
        if lines is not None
        else pd.DataFrame(columns=["ticker", "title", "rule", "alternatives", "rejected"])
    )
    over = overrides.set_index("cik") if overrides is not None else pd.DataFrame()
    given = {
        int(k): sorted({str(t).strip().upper() for t in v if str(t).strip()})
        for k, v in (file_tickers or {}).items()
    }
    mapped, unmapped = [], []
    for cik in wanted:
        sec = chosen.loc[cik] if cik in chosen.index else None
        own = given.get(cik, [])
        base = {
            "cik": cik,
            "title": "" if sec is None else str(sec["title"]),
            "rejected": "" if sec is None else str(sec["rejected"]),
            "file_tickers": "|".join(own),
        }
        if cik in over.index:
            row = over.loc[cik]
            if _missing(row["ticker"]):
                unmapped.append({**base, "reason": f"excluded by override: {row['reason']}"})
            else:
                mapped.append(_mapped(base, row["ticker"], "override", str(row["reason"]), sec))
            continue
        if sec is not None and not _missing(sec["ticker"]):
            note = _file_note(own, str(sec["ticker"]))
            mapped.append(_mapped(base, str(sec["ticker"]), "sec", note, sec))
            continue
        usable = [t for t in own if share_line_kind(t, siblings=own) in COMMON_KINDS]
        if len(usable) == 1:
            mapped.append(_mapped(base, usable[0], "file", "ticker from the signal file", sec))
            continue
        unmapped.append({**base, "reason": _unmapped_reason(sec, own, usable)})
    return CikMapping(
        pd.DataFrame(
            mapped,
            columns=[
                "cik",
                "ticker",
                "source",
                "title",
                "rule",
                "alternatives",
                "rejected",
                "file_tickers",
                "note",
            ],
        ),
        pd.DataFrame(unmapped, columns=["cik", "title", "reason", "rejected", "file_tickers"]),
    )


def _missing(value: Any) -> bool:
    """None, NaN or empty (pandas 3 stores a missing str as NaN, not None)."""
    return value is None or (isinstance(value, float) and value != value) or value == ""


def _mapped(base: dict[str, Any], ticker: str, source: str, note: str, sec: Any) -> dict[str, Any]:
    return {
        **base,
        "ticker": ticker,
        "source": source,
        "rule": "" if sec is None else str(sec["rule"]),
        "alternatives": "" if sec is None else str(sec["alternatives"]),
        "note": note,
    }


def _file_note(own: list[str], sec_ticker: str) -> str:
    other = [t for t in own if t != sec_ticker]
    if not other:
        return ""
    return f"signal file gave {'|'.join(other)}; replaced by the SEC common line {sec_ticker}"


def _unmapped_reason(sec: Any, own: list[str], usable: list[str]) -> str:
    if sec is not None:
        return f"no common-stock line in the ticker map (only {sec['rejected'] or 'none'})"
    if len(usable) > 1:
        return f"not in the ticker map; the signal file gives several tickers {usable}"
    if own:
        return f"not in the ticker map; the signal file's ticker(s) {own} are not common lines"
    return "not in the ticker map and no ticker in the signal file"


# --------------------------------------------------------------------------------------------
# online fetch with snapshots
# --------------------------------------------------------------------------------------------
def _default_fetcher(url: str, headers: Mapping[str, str], timeout_s: float) -> bytes:
    req = urllib.request.Request(url, headers=dict(headers))
    with urllib.request.urlopen(req, timeout=timeout_s) as resp:
        return bytes(resp.read())


def user_agent(value: str | None = None) -> str:
    """The ``User-Agent`` for SEC requests: ``value``, else ``$ALPHALAB_SEC_USER_AGENT``.

    The SEC asks automated clients to identify themselves (name and e-mail) and may refuse
    anonymous ones.
    """
    return (
        value or os.environ.get(USER_AGENT_ENV) or "alphalab research (set ALPHALAB_SEC_USER_AGENT)"
    )


def latest_sec_snapshot(folder: Path, url: str = SEC_TICKERS_URL) -> Path | None:
    """Most recent snapshot of ``url`` under ``folder``, or None."""
    base = folder / _url_key(url)
    found = sorted(base.glob(f"*/{SNAPSHOT_NAME}")) if base.is_dir() else []
    return found[-1] if found else None


def _url_key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


def fetch_company_tickers(
    *,
    folder: Path,
    refresh: bool = False,
    timeout_s: float = 30.0,
    agent: str | None = None,
    url: str = SEC_TICKERS_URL,
    fetcher: Fetcher | None = None,
) -> tuple[pd.DataFrame, Path, bool]:
    """The SEC ticker file: the latest snapshot, or a bounded download that is snapshotted.

    Parameters
    ----------
    folder : Path
        Snapshot folder (``data/snapshots/sec``); files go to
        ``folder/<url-hash>/<UTC stamp>/company_tickers.json`` with a ``.meta.json``.
    refresh : bool
        Download even when a snapshot exists.
    timeout_s : float
        Hard deadline for the download.
    agent : str, optional
        ``User-Agent`` (see :func:`user_agent`).
    url : str
        Where to download from.
    fetcher : callable, optional
        Replaces the HTTP transport (tests).

    Returns
    -------
    (DataFrame, Path, bool)
        The lines (:func:`parse_company_tickers`), the snapshot path and whether the network
        was used.

    Raises
    ------
    SecTimeout
        The download did not finish in ``timeout_s``.
    SecMapError
        The download failed or is not the SEC layout (the message says how to work offline).
    """
    snap = None if refresh else latest_sec_snapshot(folder, url)
    if snap is not None:
        return load_company_tickers(snap), snap, False
    fn = fetcher or _default_fetcher
    headers = {"User-Agent": user_agent(agent), "Accept": "application/json"}
    hint = (
        "offline: pass --tickers-map PATH (a saved company_tickers.json or a cik,ticker CSV), "
        f"or reuse a snapshot under {folder}"
    )
    try:
        raw = call_with_deadline(lambda: fn(url, headers, timeout_s), timeout_s)
    except YahooTimeout:
        raise SecTimeout(f"{url}: no answer within {timeout_s:.1f} s; {hint}") from None
    except Exception as exc:
        raise SecMapError(f"{url}: download failed: {exc!r}; {hint}") from exc
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SecMapError(f"{url}: the answer is not JSON ({exc}); {hint}") from None
    lines = parse_company_tickers(doc, source=url)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = folder / _url_key(url) / stamp / SNAPSHOT_NAME
    atomic_write_text(raw.decode("utf-8"), target)
    atomic_write_json(
        {
            "url": url,
            "fetched_at": stamp,
            "n_lines": len(lines),
            "user_agent": headers["User-Agent"],
        },
        target.with_name(SNAPSHOT_NAME.replace(".json", ".meta.json")),
    )
    return lines, target, True
