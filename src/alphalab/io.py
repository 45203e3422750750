"""Atomic file writes and hashing.

Every artifact is written to a temporary file in the destination folder and renamed into
place, so a failure never leaves a half-written file that DVC or a reader could mistake for a
finished one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it into place on success.

    On any exception the temporary file is removed and ``path`` is left untouched.
    """
    dest = Path(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, dest)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(text: str, path: str | Path) -> Path:
    """Write ``text`` (UTF-8) atomically to ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def _json_default(obj: Any) -> Any:
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def to_json(obj: Any) -> str:
    """Serialize with sorted keys, 2-space indent, dates as ISO strings, NaN as null."""
    return json.dumps(_nan_to_none(obj), indent=2, sort_keys=True, default=_json_default) + "\n"


def _nan_to_none(obj: Any) -> Any:
    if isinstance(obj, float) and obj != obj:
        return None
    if isinstance(obj, dict):
        return {str(k): _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_nan_to_none(v) for v in obj]
    return obj


def atomic_write_json(obj: Any, path: str | Path) -> Path:
    """Write ``obj`` as JSON atomically (see :func:`to_json`)."""
    return atomic_write_text(to_json(obj), path)


def atomic_write_parquet(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a frame to Parquet atomically (pyarrow, no index unless it is meaningful)."""
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, engine="pyarrow", index=not isinstance(df.index, pd.RangeIndex))
    return Path(path)


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Return the hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()
