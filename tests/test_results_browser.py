"""Every generated leaderboard page, opened in a real browser (headless Chromium).

For each page: a screenshot that is not blank, no console message (the pages carry no script, so
any message is an error: a failed resource, a parse error), every table of the page in the
browser's DOM and every figure decoded by the browser at its PNG's own size. The page is checked
through a copy with a small probe script at the top of <head> (the published page stays
script-free); the probe records load errors and what the browser made of each image.

Needs the Debian package ``chromium`` (``.ci/run`` installs it); skipped with the reason elsewhere.
"""
from __future__ import annotations

import base64
import html
import json
import re
import shutil
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from results_testutil import make_result, tiny_scores

from fsfm_bench.results import leaderboard as lb
from fsfm_bench.results import write_result

PROBE = """<script>
window.__errors = [];
window.addEventListener('error', function (e) {
  var t = e.target || {};
  window.__errors.push(t.tagName ? t.tagName + ' failed: ' + (t.alt || t.src || '').slice(0, 80) : String(e.message));
}, true);
window.addEventListener('load', function () {
  var imgs = Array.prototype.map.call(document.images, function (i) {
    return {alt: i.alt, complete: i.complete, width: i.naturalWidth, height: i.naturalHeight};
  });
  document.documentElement.setAttribute('data-probe', JSON.stringify({
    tables: document.querySelectorAll('table').length, rows: document.querySelectorAll('tr').length,
    images: imgs, errors: window.__errors}));
});
</script>"""


def _browser() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("headless Chromium is not installed (Debian: apt-get install chromium; .ci/run installs it)")
    return found


class _Expected(HTMLParser):
    """What the page itself holds: its tables, rows and images (alt -> PNG size from the data URI)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables, self.rows, self.images = 0, 0, {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.tables += 1
        elif tag == "tr":
            self.rows += 1
        elif tag == "img":
            png = base64.b64decode(attrs["src"].split(",", 1)[1])
            assert png[:8] == b"\x89PNG\r\n\x1a\n"
            self.images[attrs["alt"]] = struct.unpack(">II", png[16:24])       # IHDR width, height


def _open(browser: str, page: Path, workdir: Path) -> tuple[dict, str, Path]:
    """(probe record, browser console lines, screenshot) for one page."""
    probed = workdir / f"probed-{page.parent.name}.html"
    probed.write_text(page.read_text(encoding="utf-8").replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    shot = workdir / f"{page.parent.name}.png"
    proc = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                           "--no-first-run", "--hide-scrollbars", f"--user-data-dir={workdir / 'profile'}",
                           "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000",
                           "--window-size=1280,1600", f"--screenshot={shot}", "--dump-dom", probed.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    found = re.search(r'data-probe="([^"]*)"', proc.stdout)
    assert found, f"the page never finished loading in the browser: {proc.stdout[:500]}"
    console = "\n".join(line for line in proc.stderr.splitlines() if ":CONSOLE" in line)
    return json.loads(html.unescape(found.group(1))), console, shot


def _not_blank(png_path: Path) -> None:
    import numpy as np
    from PIL import Image

    with Image.open(png_path) as img:
        assert img.size == (1280, 1600)
        pixels = np.asarray(img.convert("L"), dtype=float)
    assert pixels.std() > 10 and (pixels < 128).mean() > 0.005        # text and figures, not a white page


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> list[Path]:
    """The pages of a real build: the demo protocol with a result, the others with the papers' rows."""
    root = tmp_path_factory.mktemp("board")
    scores = tiny_scores(targets=("unseen",), videos=6, frames=2)
    write_result(make_result(scores, protocol="demo@1"), root / "results", scores=scores)
    lb.build(root / "results", root / "lb")
    found = sorted((root / "lb").glob("*/leaderboard.html"))
    assert {p.parent.name for p in found} >= {"demo_v1", "cdfd_v1"}
    return found


def test_every_page_renders_with_all_tables_and_figures(pages, tmp_path):
    browser = _browser()
    for page in pages:
        expected = _Expected()
        expected.feed(page.read_text(encoding="utf-8"))
        assert expected.tables > 0 and expected.images, page
        probe, console, shot = _open(browser, page, tmp_path)
        name = page.parent.name
        assert console == "", f"{name}: console messages:\n{console}"
        assert probe["errors"] == [], f"{name}: {probe['errors']}"
        assert (probe["tables"], probe["rows"]) == (expected.tables, expected.rows), name
        shown = {img["alt"]: img for img in probe["images"]}
        assert set(shown) == set(expected.images), name
        for alt, (width, height) in expected.images.items():
            img = shown[alt]
            assert img["complete"] and (img["width"], img["height"]) == (width, height), f"{name}: {alt} {img}"
        _not_blank(shot)


def test_the_browser_check_catches_a_broken_figure(pages, tmp_path):
    """The checks are not vacuous: a figure whose data is corrupt is reported by the browser."""
    browser = _browser()
    page = next(p for p in pages if p.parent.name == "demo_v1")
    (tmp_path / "demo_v1").mkdir()
    broken = tmp_path / "demo_v1" / "leaderboard.html"
    broken.write_text(re.sub(r"data:image/png;base64,[A-Za-z0-9+/]{40}", "data:image/png;base64," + "A" * 40,
                             page.read_text(encoding="utf-8"), count=1), encoding="utf-8")
    probe, _console, _shot = _open(browser, broken, tmp_path)
    assert probe["errors"] and probe["errors"][0].startswith("IMG failed")
    assert sum(img["width"] == 0 for img in probe["images"]) == 1
