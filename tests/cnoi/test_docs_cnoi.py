"""The CNOI guide and study README: every ``alphalab study`` / ``alphalab power`` command they
show parses with the real parsers, and the study params they describe validate.

Tolerance: exact (parsers and schema).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from alphalab import power
from alphalab.config import load_params
from alphalab.studies import cli

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "docs" / "bring_your_own_signal.md", REPO / "studies" / "cnoi" / "README.md"]
FENCE = re.compile(r"```(\w*)\n(.*?)```", re.S)


def commands(path: Path) -> list[list[str]]:
    out = []
    for lang, body in FENCE.findall(path.read_text()):
        if lang not in ("bash", "sh", ""):
            continue
        for line in body.replace("\\\n", " ").splitlines():
            tokens = shlex.split(line, comments=True)
            if tokens[:1] == ["alphalab"] and tokens[1:2] in (["study"], ["power"]):
                out.append(tokens[1:])
    return out


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_documented_commands_parse(path: Path) -> None:
    found = commands(path)
    assert found, f"{path.name}: no alphalab study/power command found"
    for argv in found:
        parser = cli.build_parser() if argv[0] == "study" else power.build_parser()
        parser.parse_args(argv[1:])  # SystemExit (usage error) fails the test


def test_guide_names_the_study_params_that_exist() -> None:
    p = load_params(REPO / "studies" / "cnoi" / "params.yaml")
    text = DOCS[0].read_text()
    assert (
        "max_quarantine_frac" in text
        and f"{p.validate_.max_quarantine_frac:.0%}".replace("%", " %") in text
    )
    assert "2023-01-31" in text and str(p.events.estimation_end) == "2023-01-31"
    assert "UNMAPPED-CIK" in text
