"""Build ``notebooks/*.ipynb`` from the percent-format scripts in ``tools/notebooks/``.

Each script is a sequence of cells separated by ``# %%`` lines (``# %% [markdown]`` for text,
``# %% tags=["parameters"]`` for papermill's parameters cell). Notebooks are written without
outputs and with fixed cell ids (``<stem>-NN``) so that rebuilding never changes a byte unless
the source changed, and DVC does not rerun stages for nothing.

Usage: ``python tools/build_notebooks.py`` (write) or ``--check`` (exit 1 if out of date).
Dashboard pages come from ``tools/notebooks/dashboard/*.py`` into ``notebooks/dashboard/``.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "tools" / "notebooks"
HEADER = re.compile(r"^# %%(?P<md> \[markdown\])?(?: tags=(?P<tags>\[.*\]))?\s*$")

METADATA = {
    "kernelspec": {
        "display_name": "alphalab (project env)",
        "language": "python",
        "name": "alphalab",
    },
    "language_info": {"name": "python"},
}


def parse(text: str, stem: str) -> dict:
    cells: list[dict] = []
    current: dict | None = None
    lines: list[str] = []

    def close() -> None:
        if current is None:
            return
        body = lines[:]
        while body and not body[-1].strip():
            body.pop()
        if current["cell_type"] == "markdown":
            body = [ln[2:] if ln.startswith("# ") else ln.lstrip("#") for ln in body]
        source = "\n".join(body)
        cell = dict(current, source=source)
        cells.append(cell)

    for line in text.splitlines():
        m = HEADER.match(line)
        if m:
            close()
            lines = []
            kind = "markdown" if m.group("md") else "code"
            current = {"cell_type": kind, "metadata": {}}
            if m.group("tags"):
                current["metadata"] = {"tags": json.loads(m.group("tags"))}
            if kind == "code":
                current.update(execution_count=None, outputs=[])
            continue
        if current is not None:
            lines.append(line)
    close()
    for i, cell in enumerate(cells):
        cell["id"] = f"{stem}-{i:02d}"
    ordered = []
    for cell in cells:
        keys = ["cell_type", "execution_count", "id", "metadata", "outputs", "source"]
        ordered.append({k: cell[k] for k in keys if k in cell})
    return {"cells": ordered, "metadata": METADATA, "nbformat": 4, "nbformat_minor": 5}


def render(script: Path) -> str:
    nb = parse(script.read_text(encoding="utf-8"), script.stem)
    return json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def targets() -> list[tuple[Path, Path]]:
    pairs = [(s, ROOT / "notebooks" / f"{s.stem}.ipynb") for s in sorted(SRC.glob("*.py"))]
    pairs += [
        (s, ROOT / "notebooks" / "dashboard" / f"{s.stem}.ipynb")
        for s in sorted((SRC / "dashboard").glob("*.py"))
    ]
    return pairs


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for script, target in targets():
        text = render(script)
        if target.is_file() and target.read_text(encoding="utf-8") == text:
            continue
        stale.append(target)
        if not check:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    if check and stale:
        for t in stale:
            print(
                f"{t.relative_to(ROOT)}: out of date; run python tools/build_notebooks.py",
                file=sys.stderr,
            )
        return 1
    for t in stale:
        print(f"wrote {t.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
