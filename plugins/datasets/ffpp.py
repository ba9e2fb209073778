"""FaceForensics++ and its DeepFakeDetection part, as the authors' download script lays them out.

Layout (``ondyari/FaceForensics:dataset/README.md`` and the download script)::

    original_sequences/youtube/<comp>/videos/000.mp4 ... 999.mp4
    manipulated_sequences/<Method>/<comp>/videos/<target>_<source>.mp4
    original_sequences/actors/<comp>/videos/<actor>__<scene>.mp4                       (DFD)
    manipulated_sequences/DeepFakeDetection/<comp>/videos/<t>_<s>__<scene>__<id>.mp4     (DFD)

``<comp>`` is raw, c23 or c40 (``c0`` is the repo's name for raw and is accepted for it). The split
JSONs ``{train,val,test}.json`` (lists of ``[a, b]`` pairs) are not part of the download: they are
looked for in ``splits=`` or, by default, ``<root>/dataset/splits/``, ``<root>/splits/``, ``<root>/``.
A fake ``a_b`` belongs to the split of its pair.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from .base import DatasetAdapter, Scan, as_list, list_files

METHODS = ("Deepfakes", "Face2Face", "FaceSwap", "NeuralTextures", "FaceShifter")
COMPRESSIONS = ("raw", "c23", "c40")
ALIASES = {"raw": ("raw", "c0"), "c0": ("c0", "raw"), "c23": ("c23",), "c40": ("c40",)}
SPLITS = ("train", "val", "test")
SPLIT_DIRS = ("dataset/splits", "splits", ".")
REAL_NAME = re.compile(r"^(\d{3})\.mp4$")
FAKE_NAME = re.compile(r"^(\d{3})_(\d{3})\.mp4$")
DFD_REAL = re.compile(r"^(\d{2})__(.+)\.mp4$")
DFD_FAKE = re.compile(r"^(\d{2})_(\d{2})__(.+)__([A-Z0-9]{8})\.mp4$")


def comp_dir(adapter: DatasetAdapter, root: Path, base: str, comp: str, *, required: bool = True) -> Path | None:
    """``root/base/<comp>/videos``, accepting c0 for raw (and raw for c0)."""
    for name in ALIASES.get(comp, (comp,)):
        cand = root / base / name / "videos"
        if cand.is_dir():
            return cand
    if not required:
        return None
    present = sorted(p.name for p in (root / base).iterdir() if p.is_dir()) if (root / base).is_dir() else []
    have = f" (found {', '.join(present)})" if present else ""
    raise adapter.layout_error(root, f"{base}/{comp}/videos not found{have}; pass compression=raw|c23|c40 "
                                     f"to match what you downloaded")


class FaceForensicsPP(DatasetAdapter):
    """FaceForensics++: original YouTube videos and five manipulations; official 720/140/140 split."""

    name = "ffpp"
    defaults = {"compression": "c23", "methods": list(METHODS), "include_original": True, "splits": None}

    def load_splits(self, root: Path, splits_opt: Any) -> tuple[dict[str, str], dict[str, list]]:
        """Map every id and ``a_b``/``b_a`` name to its split; return also the pairs per split."""
        folders = [Path(splits_opt).expanduser()] if splits_opt else [root / d for d in SPLIT_DIRS]
        folder = None
        for cand in folders:
            if cand.is_file() and cand.suffix == ".json":
                cand = cand.parent
            if all((cand / f"{s}.json").is_file() for s in SPLITS):
                folder = cand
                break
        if folder is None:
            looked = ", ".join(str(f) for f in folders)
            raise self.layout_error(
                root, f"the official split files train.json, val.json, test.json were not found (looked in "
                      f"{looked}); they are not part of the download: copy dataset/splits/*.json from "
                      f"https://github.com/ondyari/FaceForensics into <root>/dataset/splits/ or pass splits=FOLDER")
        assign: dict[str, str] = {}
        pairs: dict[str, list] = {}
        for split in SPLITS:
            path = folder / f"{split}.json"
            try:
                data = json.loads(path.read_text(encoding="utf-8-sig"))
            except (OSError, json.JSONDecodeError) as exc:
                raise self.layout_error(root, f"{path} is not readable JSON ({exc})") from exc
            ok = isinstance(data, list) and all(
                isinstance(p, list) and len(p) == 2 and all(isinstance(x, (str, int)) for x in p) for p in data)
            if not ok:
                raise self.layout_error(root, f"{path} must be a JSON list of [\"000\", \"001\"] id pairs "
                                              f"as in the FaceForensics repository")
            pairs[split] = []
            for a, b in data:
                a, b = f"{int(a):03d}", f"{int(b):03d}"
                pairs[split].append((a, b))
                for key in (a, b, f"{a}_{b}", f"{b}_{a}"):
                    if key in assign and assign[key] != split:
                        raise self.layout_error(root, f"video {key} is in both {assign[key]}.json and "
                                                      f"{split}.json under {folder}")
                    assign[key] = split
        return assign, pairs

    def _scan(self, root: Path, opts: dict[str, Any]) -> Scan:
        scan = Scan()
        comp = opts["compression"]
        methods = as_list(opts["methods"])
        assign, pairs = self.load_splits(root, opts["splits"])
        sizes = {s: len(p) for s, p in pairs.items()}
        if sizes != {"train": 360, "val": 70, "test": 70}:
            scan.problems.append(f"split files hold {sizes['train']}/{sizes['val']}/{sizes['test']} pairs; the "
                                 f"official train/val/test.json hold 360/70/70")
        ids = sorted({x for p in pairs.values() for pair in p for x in pair})
        if opts["include_original"]:
            folder = comp_dir(self, root, "original_sequences/youtube", comp)
            self._collect(root, folder, REAL_NAME, {f"{i}.mp4" for i in ids}, assign, scan,
                          label=0, manipulation="real", compression=comp)
        for method in methods:
            folder = comp_dir(self, root, f"manipulated_sequences/{method}", comp)
            want = {f"{a}_{b}.mp4" for p in pairs.values() for a, b in p} | \
                   {f"{b}_{a}.mp4" for p in pairs.values() for a, b in p}
            self._collect(root, folder, FAKE_NAME, want, assign, scan,
                          label=1, manipulation=method, compression=comp)
        return scan

    def _collect(self, root: Path, folder: Path, pattern: re.Pattern, want: set[str], assign: dict[str, str],
                 scan: Scan, **kw: Any) -> None:
        present = {p.name: p for p in list_files(folder)}
        for name in sorted(want - set(present)):
            scan.missing.append(f"{folder.relative_to(root).as_posix()}/{name}")
        for name, path in present.items():
            match = pattern.match(name)
            key = name[:-4]
            if not match or key not in assign:
                scan.extra.append(path.relative_to(root).as_posix())
                continue
            meta = {"compression": kw["compression"]}
            if kw["label"]:
                meta.update(target=match.group(1), source=match.group(2))
            scan.items.append(self.item(root, path, kind="video", label=kw["label"], split=assign[key],
                                        manipulation=kw["manipulation"], meta=meta))


class DeepFakeDetection(DatasetAdapter):
    """DeepFakeDetection (DFD): Google/Jigsaw actors and their deepfakes, shipped inside FF++."""

    name = "dfd"
    defaults = {"compression": "c23", "split": "test"}

    def _scan(self, root: Path, opts: dict[str, Any]) -> Scan:
        scan = Scan()
        comp = opts["compression"]
        real_dir = comp_dir(self, root, "original_sequences/actors", comp)
        fake_dir = comp_dir(self, root, "manipulated_sequences/DeepFakeDetection", comp)
        for folder, pattern, label in ((real_dir, DFD_REAL, 0), (fake_dir, DFD_FAKE, 1)):
            for path in list_files(folder):
                match = pattern.match(path.name)
                if not match:
                    scan.extra.append(path.relative_to(root).as_posix())
                    continue
                if label:
                    meta = {"compression": comp, "target": match.group(1), "source": match.group(2),
                            "scene": match.group(3), "experiment": match.group(4)}
                else:
                    meta = {"compression": comp, "actor": match.group(1), "scene": match.group(2)}
                scan.items.append(self.item(root, path, kind="video", label=label, split=opts["split"],
                                            manipulation="DeepFakeDetection" if label else "real", meta=meta))
        if not scan.items:
            scan.problems.append(f"no DFD videos under {real_dir} and {fake_dir}")
        return scan
