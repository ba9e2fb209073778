"""WildDeepfake (``OpenTAI/wild-deepfake`` README): face sequences as folders of PNG frames.

Layout after extracting every archive in place::

    {real_train, real_test, fake_train, fake_test}/<k>.tar.gz      (as downloaded)
    {real_train, ...}/<k>/<real|fake>/<sequence>/<frame>.png      (extracted)

Label and split come from the top folder (``real_*``/``fake_*``, ``*_train``/``*_test``). The video id
is the frame folder's whole path (sequence names repeat across archives). Defensive: the
``<real|fake>`` level is optional (any folder that directly holds images is a sequence), but when it
is present it must agree with the top folder; archives that are not extracted are an error that says
how to extract them (``tar -xf`` reads both gzip and the plain tar some copies ship under .tar.gz).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from .base import IMAGE_EXTS, DatasetAdapter, Scan, as_list, rel_posix

TOPS = ("real_train", "real_test", "fake_train", "fake_test")


class WildDeepfake(DatasetAdapter):
    """WildDeepfake: 7,314 face sequences from 707 internet videos, as PNG frame folders."""

    name = "wilddeepfake"
    defaults = {"splits": ["train", "test"]}

    def _scan(self, root: Path, opts: dict[str, Any]) -> Scan:
        scan = Scan()
        base = root
        if not any((root / t).is_dir() for t in TOPS) and (root / "deepfake_in_the_wild").is_dir():
            base = root / "deepfake_in_the_wild"
        splits = as_list(opts["splits"])
        tops = [t for t in TOPS if t.split("_")[1] in splits]
        lacking = [t for t in tops if not (base / t).is_dir()]
        if lacking:
            raise self.layout_error(root, "folder(s) " + ", ".join(lacking) + " not found")
        for top in tops:
            label_name, split = top.split("_")
            label = int(label_name == "fake")
            archives = sorted(p.name for p in (base / top).iterdir() if p.name.endswith((".tar.gz", ".tar", ".tgz")))
            sequences = 0
            for dirpath, dirnames, filenames in os.walk(base / top, followlinks=True):
                dirnames.sort()
                frames = [f for f in filenames if f.lower().endswith(IMAGE_EXTS) and not f.startswith(".")]
                if not frames:
                    continue
                folder = Path(dirpath)
                rel = rel_posix(folder, root)
                inner = Path(rel_posix(folder, base / top)).parts
                if folder == base / top or len(inner) < 2:
                    scan.extra.extend(f"{rel}/{f}" for f in sorted(frames))
                    continue
                if len(inner) >= 3 and inner[1] in ("real", "fake") and inner[1] != label_name:
                    scan.problems.append(f"{rel}: a {inner[1]} sequence inside {top}/")
                    continue
                sequences += 1
                scan.items.append(self.item(root, rel, kind="frames", label=label, split=split, video_id=rel,
                                            manipulation="wild" if label else "real",
                                            meta={"archive": inner[0], "frames": len(frames)}))
            if sequences == 0 and archives:
                raise self.layout_error(root, f"{top}/ holds {len(archives)} archives ({archives[0]}, ...) but no "
                                              f"extracted frame folders; extract each in place, e.g. `cd {base / top} && for f in *.tar.gz; "
                                              f"do tar -xf \"$f\"; done` (tar -xf reads gzip and plain tar alike)")
            if sequences == 0:
                scan.problems.append(f"{top}/ holds no frame folders")
        return scan
