"""The shape every dataset adapter shares: options, root checks, file walks and clear layout errors
(the contract itself: :class:`fsfm_bench.contracts.DatasetProtocol`).

An adapter reads one official layout exactly as its authors ship it and returns
:class:`~fsfm_bench.data.items.MediaItem` objects (label 1 = fake/attack). Subclasses implement
:meth:`DatasetAdapter._scan`, which returns a :class:`Scan`: the items found, plus what the layout
files (split lists, labels.csv, dataset.json, ...) say should exist but does not (``missing``), what
exists but the layout does not account for (``extra``) and inconsistencies (``problems``).
``index`` returns the items; ``verify`` compares the scan and the counts against the card.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from fsfm_bench.data.items import MediaItem
from fsfm_bench.errors import FsfmBenchError, UsageError, did_you_mean

VIDEO_EXTS = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")
IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")


@dataclass
class Scan:
    """What an adapter found under a root (see the module docstring)."""

    items: list[MediaItem] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class DatasetAdapter:
    """Base class of the built-in adapters; third parties may subclass it too."""

    name: ClassVar[str] = ""
    #: option name -> default value; anything else passed to index/verify is a UsageError
    defaults: ClassVar[dict[str, Any]] = {}

    # --- public API -------------------------------------------------------------------------------
    @property
    def card(self) -> dict[str, Any]:
        """The validated card ``registry/datasets/<name>.yaml``."""
        from fsfm_bench.data.cards import load_card

        return load_card(self.name)

    def index(self, root: str | os.PathLike, **options: Any) -> list[MediaItem]:
        """Every media item of the copy under ``root`` (label 1 = fake/attack), in a stable order.

        Files that the layout files list but that are absent are skipped with one warning that
        counts them and names the verify command (never silently).
        """
        scan = self.scan(root, **options)
        if scan.missing:
            warnings.warn(f"dataset {self.name!r}: {len(scan.missing)} entries the layout expects are missing "
                          f"under {root} (first: {scan.missing[0]}); they are left out. See "
                          f"`{self.verify_command(root)}`.", RuntimeWarning, stacklevel=2)
        return scan.items

    def verify(self, root: str | os.PathLike, strict: bool = False, **options: Any):
        """A :class:`fsfm_bench.data.verify.VerifyReport` of this copy against the card."""
        from fsfm_bench.data.verify import verify_adapter

        return verify_adapter(self, root, strict=strict, **options)

    def scan(self, root: str | os.PathLike, **options: Any) -> Scan:
        """Check the root, resolve options, then run the adapter's ``_scan``."""
        opts = self.resolve_options(options)
        path = self.check_root(root)
        scan = self._scan(path, opts)
        scan.items.sort(key=lambda it: (it.split, it.path))
        scan.missing.sort()
        scan.extra.sort()
        return scan

    # --- for subclasses --------------------------------------------------------------------------
    def _scan(self, root: Path, opts: dict[str, Any]) -> Scan:  # pragma: no cover - abstract
        raise NotImplementedError

    def resolve_options(self, options: dict[str, Any]) -> dict[str, Any]:
        unknown = [k for k in options if k not in self.defaults]
        if unknown:
            valid = ", ".join(sorted(self.defaults)) or "(none)"
            hint = did_you_mean(unknown[0], self.defaults)
            if not hint.startswith(" Did you mean"):   # it already listed them: say so only once
                hint = ""
            raise UsageError(f"dataset {self.name!r} has no option {unknown[0]!r}." + hint
                             + f" Its options: {valid}.")
        opts = {**self.defaults, **options}
        choices = {k: v.get("choices") for k, v in (self.card.get("options") or {}).items()}
        for key, value in opts.items():
            allowed = choices.get(key)
            if allowed and value is not None:
                values = as_list(value) if isinstance(self.defaults.get(key), list) else [value]
                for v in values:
                    if v not in allowed:
                        raise UsageError(f"dataset {self.name!r}: option {key}={v!r} is not one of "
                                         f"{', '.join(map(str, allowed))}." + did_you_mean(str(v), map(str, allowed)))
        return opts

    def options_are_default(self, options: dict[str, Any]) -> bool:
        return all(options.get(k, v) == v for k, v in self.defaults.items())

    def verify_command(self, root: str | os.PathLike) -> str:
        return f"fsfm-bench data verify dataset={self.name} root={root}"

    def layout_error(self, root: str | os.PathLike, problem: str) -> FsfmBenchError:
        """One message naming the dataset, the problem, the expected root and layout, and verify."""
        card = self.card
        layout = card["layout"]
        where = layout.get("root", "the folder the authors' archives extract to")
        expected = "; ".join(layout.get("required", [])) or "see the card"
        url = card["obtain"].get("url")
        get = f" Get it from {url} ({card['obtain']['how'].rstrip('.')})." if url else ""
        return FsfmBenchError(
            f"dataset {self.name!r} ({card['title']}): {problem}. root= must be {where}; expected under it: "
            f"{expected} (full tree in registry/datasets/{self.name}.yaml).{get} "
            f"Check a copy with `{self.verify_command(root)}`.")

    def check_root(self, root: str | os.PathLike | None) -> Path:
        if root is None or str(root) == "":
            raise self.layout_error("PATH", "no root given (pass root=PATH)")
        path = Path(root).expanduser()
        if not path.exists():
            raise self.layout_error(root, f"root {path} does not exist")
        if not path.is_dir():
            raise self.layout_error(root, f"root {path} is not a folder")
        return path

    def require(self, root: Path, *candidates: str, what: str | None = None) -> Path:
        """The first existing ``root/<candidate>``, else a layout error naming every candidate."""
        for cand in candidates:
            if (root / cand).exists():
                return root / cand
        names = " or ".join(candidates)
        raise self.layout_error(root, f"{what or names} not found (looked for {names} under {root})")

    def item(self, root: Path, path: Path | str, **fields: Any) -> MediaItem:
        rel = rel_posix(path, root) if isinstance(path, Path) else path
        fields.setdefault("source", self.name)
        fields.setdefault("video_id", strip_ext(rel))
        return MediaItem(path=rel, **fields)


# --- helpers --------------------------------------------------------------------------------------
def rel_posix(path: Path, root: Path) -> str:
    return Path(os.path.relpath(path, root)).as_posix()


def strip_ext(rel: str) -> str:
    base, ext = os.path.splitext(rel)
    return base if ext else rel


def walk_files(folder: Path, exts: tuple[str, ...] | None = None) -> list[Path]:
    """Every file under ``folder`` (recursively, following links) with one of ``exts``, sorted."""
    found: list[Path] = []
    if not folder.is_dir():
        return found
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames.sort()
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            if exts is None or name.lower().endswith(exts):
                found.append(Path(dirpath) / name)
    return found


def list_files(folder: Path, exts: tuple[str, ...] | None = None) -> list[Path]:
    """Files directly in ``folder`` with one of ``exts``, sorted."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and not p.name.startswith(".") and (exts is None or p.name.lower().endswith(exts)))


def read_text_lines(path: Path) -> list[str]:
    """Non-empty stripped lines; tolerates a BOM, CRLF or LF and a missing final newline."""
    text = path.read_text(encoding="utf-8-sig")
    return [line.strip() for line in text.splitlines() if line.strip()]


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [value]
