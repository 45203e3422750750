"""Sphinx configuration: the API reference, built from the docstrings of ``src/alphalab``.

Build with ``sphinx-build -W -b html docs docs/_build/html`` (warnings are errors).

The API pages are generated here, at configuration time, from the package's files: one page per
public module (``docs/api/<module>.rst``, each a bare ``automodule``) and ``docs/api/index.rst``
listing them, so a module added to ``src/alphalab`` appears without editing the docs. Private
modules (``_name.py``) and ``__main__`` are left out. ``docs/api/`` is generated: do not edit.

Docstrings are numpydoc style, rendered by ``sphinx.ext.napoleon``. The user guide, the
deployment guide and the playbooks are Markdown files next to this one, read on their own.
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
SRC = DOCS.parent / "src"
PACKAGE = "alphalab"
API = DOCS / "api"

if (SRC / PACKAGE).is_dir():
    sys.path.insert(0, str(SRC))

import alphalab  # noqa: E402  (after the path set-up above)

project = "alphalab"
author = "alphalab contributors"
copyright = "alphalab contributors"
release = version = alphalab.__version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon"]
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "playbooks", "**/.ipynb_checkpoints"]

napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_ivar = True  # "Attributes" become fields, not duplicate object entries
napoleon_use_rtype = False

autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
    "ignore-module-all": True,  # re-exports are documented where they are defined
}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"

html_theme = "alabaster"
html_static_path: list[str] = []
html_title = f"alphalab {release} API"


def public_modules(package_dir: Path) -> list[str]:
    """Dotted names of the public modules and packages under ``package_dir``, sorted."""
    names = []
    for path in sorted(package_dir.rglob("*.py")):
        rel = path.relative_to(package_dir.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if any(p.startswith("_") for p in parts) or "__pycache__" in path.parts:
            continue
        if not all(
            (package_dir.parent.joinpath(*parts[:i]) / "__init__.py").is_file()
            for i in range(1, len(parts))
        ):
            continue  # inside a folder that is not a package
        names.append(".".join(parts))
    return sorted(set(names))


def _write_if_changed(path: Path, text: str) -> None:
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def write_api_pages(modules: list[str], folder: Path) -> None:
    """One ``automodule`` page per module plus an index; stale pages are removed."""
    folder.mkdir(exist_ok=True)
    wanted = {f"{m}.rst" for m in modules} | {"index.rst"}
    for old in folder.glob("*.rst"):
        if old.name not in wanted:
            old.unlink()
    for module in modules:
        _write_if_changed(
            folder / f"{module}.rst", f"{module}\n{'=' * len(module)}\n\n.. automodule:: {module}\n"
        )
    toc = "\n".join(f"   {m}" for m in modules)
    index = (
        "API reference\n=============\n\n"
        "Generated from the docstrings of ``src/alphalab`` (one page per module).\n\n"
        f".. toctree::\n   :maxdepth: 1\n\n{toc}\n"
    )
    _write_if_changed(folder / "index.rst", index)


write_api_pages(public_modules(Path(alphalab.__file__).parent), API)
