"""The real dashboard in a real browser: Voila serving ``notebooks/dashboard/`` against a scratch
root of FIXTURE artifacts, driven by Debian's Chromium through Playwright (no browser download).

Checks: every page renders within :data:`RENDER_LIMIT_S` of the first request, with its figures
drawn and no error block; changing a widget updates the figure and the numbers; the nav bar
reaches every page; the Overview's numbers in the browser equal ``reports/metrics/*.json``; no
request leaves the machine except the optional icon-font style sheets Voila's template asks for.
Screenshots go to ``test-artifacts/screenshots/`` (git-ignored) with the measured render times.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alphalab import config
from alphalab.pipeline import ensure_kernel
from alphalab.reporting import dashboard as dash
from tests.reporting.artifacts import write_fixture_artifacts

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
RENDER_LIMIT_S = 10.0
#: Voila's lab template links Font Awesome style sheets (icon fonts) from a CDN; optional.
ICON_FONTS = re.compile(r"fontawesome|font-awesome|\.(woff2?|ttf|eot)(\?|$)", re.I)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    if not CHROMIUM.is_file():
        pytest.skip(
            "Debian's Chromium is not installed at /usr/bin/chromium (apt-get install chromium)"
        )
    pytest.importorskip("playwright.sync_api")
    root = write_fixture_artifacts(tmp_path_factory.mktemp("browser") / "root")
    ensure_kernel()
    port = _free_port()
    env = {**os.environ, config.ROOT_ENV: str(root)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    log = (root / "voila.log").open("w")
    proc = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "voila"),
            str(REPO / "notebooks" / "dashboard"),
            "--no-browser",
            f"--port={port}",
            "--Voila.ip=127.0.0.1",
            "--VoilaConfiguration.file_allowlist=['.*']",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError((root / "voila.log").read_text()[-3000:]) from None
                time.sleep(0.3)
        yield url, root
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="module")
def browser(server: tuple[str, Path]) -> Iterator[dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    url, _ = server
    external: list[str] = []

    def route(r: Any) -> None:
        target = r.request.url
        if target.startswith((url, "data:", "blob:", "about:")):
            r.continue_()
        else:
            external.append(target)
            r.abort()

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        ctx = b.new_context(viewport={"width": 1280, "height": 900})
        ctx.route("**/*", route)
        page = ctx.new_page()
        page.set_default_timeout(30_000)
        try:
            yield {"page": page, "external": external, "url": url}
        finally:
            b.close()


def _open(browser: dict[str, Any], info: dash.PageInfo) -> float:
    page = browser["page"]
    start = time.perf_counter()
    page.goto(f"{browser['url']}/voila/render/{info.notebook}")
    page.wait_for_selector(f".al-ready.al-page-{info.name}")
    return time.perf_counter() - start


def _expected_figures(root: Path, name: str) -> int:
    built = dash.build_page(name, paths=config.Paths(root))
    return sum(1 for a in built.areas.values() for c in a.box.children if hasattr(c, "outputs"))


def _screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = page.evaluate(
        "() => document.querySelector('.al-root').getBoundingClientRect().height"
    )
    page.set_viewport_size({"width": 1280, "height": int(height) + 80})
    page.wait_for_timeout(200)
    out = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(out))
    page.set_viewport_size({"width": 1280, "height": 900})
    return out


def _check_overview_numbers(page: Any, root: Path) -> None:
    cards = page.locator(".al-card[data-series]")
    assert cards.count() > 0
    for i in range(cards.count()):
        card = cards.nth(i)
        stage, series, stat = (card.get_attribute(f"data-{k}") for k in ("stage", "series", "stat"))
        doc = json.loads((root / "reports" / "metrics" / f"{stage}.json").read_text())
        assert float(card.get_attribute("data-value") or "nan") == doc[series][stat]


def test_every_page_via_the_nav_bar_renders_in_time(
    server: tuple[str, Path], browser: dict[str, Any]
) -> None:
    """Open the Overview, then follow the nav bar to every page in turn (the first request of
    each page is the click); time until its figures are drawn, check it, screenshot it."""
    _, root = server
    page = browser["page"]
    timings = {}
    previous = None
    for info in dash.PAGES.values():
        n = _expected_figures(root, info.name)
        start = time.perf_counter()
        if previous is None:
            page.goto(f"{browser['url']}/voila/render/{info.notebook}")
        else:
            page.locator(f'.al-nav a[data-page="{info.name}"]').first.click()
        page.wait_for_selector(f".al-ready.al-page-{info.name}")
        page.wait_for_function(  # plotly draws two svg layers per figure
            f"() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= {2 * n}"
        )
        seconds = time.perf_counter() - start
        timings[info.name] = {"seconds": round(seconds, 2), "figures": n}
        assert page.url.endswith(f"/voila/render/{info.notebook}")
        assert page.locator(".al-nav a.al-current").inner_text() == info.title
        assert page.locator(".al-nav a").count() == len(dash.PAGES)
        assert page.locator(".al-block-error").count() == 0, info.name
        assert page.locator(".al-provenance .al-prov").count() == 1, info.name
        assert seconds < RENDER_LIMIT_S, f"{info.name}: {seconds:.1f} s to render"
        if info.name == "overview":
            _check_overview_numbers(page, root)
        _screenshot(page, info.notebook.removesuffix(".ipynb"))
        previous = info
    (SCREENSHOTS / "timings.json").write_text(json.dumps(timings, indent=1))


def test_widgets_update_figures_and_numbers(
    server: tuple[str, Path], browser: dict[str, Any]
) -> None:
    _, root = server
    page = browser["page"]
    doc = json.loads((root / "reports" / "metrics" / "backtest.json").read_text())

    _open(browser, dash.PAGES["portfolio_sorts"])
    title = page.locator(".al-fig-quantile-means .gtitle")
    title.wait_for()
    assert "horizon 1" in (title.text_content() or "")
    page.select_option(".al-control-horizon-horizon select", "21")
    page.wait_for_function(
        "() => document.querySelector('.al-fig-quantile-means .gtitle').textContent.includes('horizon 21')"
    )
    ic_table = page.locator(".al-area-horizon .al-block-ic-stats")
    ic_table.locator("th.al-row", has_text="ic_h21").wait_for()
    t21 = f"{doc['ic_h21']['t_nw']:.2f}"
    assert t21 in ic_table.inner_text()

    perf = page.locator(".al-block-perf-table")
    assert "long_short_net" not in perf.inner_text()
    page.locator(".al-control-performance-costs button", has_text="net").click()
    perf.locator("th.al-row", has_text="long_short_net").wait_for()
    assert f"{doc['long_short_net']['sharpe']:.2f}" in perf.inner_text()
    _screenshot(page, "03_portfolio_sorts-after-widgets")

    _open(browser, dash.PAGES["event_study"])
    page.select_option(".al-control-window-window select", "0_p5")
    page.wait_for_function(
        "() => document.querySelector('.al-fig-caar .gtitle').textContent.includes('0_p5')"
    )
    page.locator(".al-block-event-tests .al-caption", has_text="window 0_p5").wait_for()

    _open(browser, dash.PAGES["robustness"])
    card = page.locator(".al-area-grid .al-card")
    before = card.get_attribute("data-value")
    page.select_option(".al-control-grid-stat select", "t_nw")
    page.wait_for_function(
        f"() => document.querySelector('.al-area-grid .al-card').dataset.value !== '{before}'"
    )
    page.wait_for_function(
        "() => document.querySelector('.al-fig-grid .gtitle').textContent.includes('t_nw across 18')"
    )
    assert "best of 18 variants · 24 trials in the ledger" in card.inner_text()


def test_no_request_leaves_the_machine_except_icon_fonts(browser: dict[str, Any]) -> None:
    others = [u for u in browser["external"] if not ICON_FONTS.search(u)]
    assert others == []
