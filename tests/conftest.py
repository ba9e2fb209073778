"""Suite-wide settings: offline hubs, headless plotting, and a sandbox for synthetic plugins."""
from __future__ import annotations

import os
import sys
import tempfile
import textwrap
import uuid
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("MPLBACKEND", "Agg")
# a run from the checkout writes to the user folder: in tests, a throw-away one (never the real home)
os.environ["FSFM_BENCH_HOME"] = tempfile.mkdtemp(prefix="fsfm-bench-test-home-")

import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def shared_file(relative: str) -> Path:
    """A file from ../shared, or skip the test with a reason (a user's clone has no ../shared)."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"{relative} is only available beside the development checkout (../shared)")
    return path


class PluginSandbox:
    """Writes throw-away distributions (dist-info + module), exactly as pip would install them."""

    def __init__(self, root: Path, monkeypatch: pytest.MonkeyPatch):
        self.root = root
        self.monkeypatch = monkeypatch
        monkeypatch.syspath_prepend(str(root))

    def add(self, dist: str, module_source: str, entry_name: str | None = None, version: str = "1.0") -> str:
        """Install distribution ``dist`` whose single entry point loads a fresh module; return its name."""
        module = f"sandbox_{dist.replace('-', '_')}_{uuid.uuid4().hex[:8]}"
        (self.root / f"{module}.py").write_text(textwrap.dedent(module_source))
        info = self.root / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(f"[fsfm_bench]\n{entry_name or dist} = {module}\n")
        return module

    def load(self):
        from fsfm_bench.plugins import load_plugins

        sys.path_importer_cache.clear()
        return load_plugins(reload=True)


@pytest.fixture
def plugin_sandbox(tmp_path, monkeypatch):
    (tmp_path / "site").mkdir()
    yield PluginSandbox(tmp_path / "site", monkeypatch)
    monkeypatch.undo()
    from fsfm_bench.plugins import load_plugins

    load_plugins(reload=True)
