"""Celeb-DF v2 and v1 (``yuezunli/celeb-deepfakeforensics`` README).

Layout: ``Celeb-real/``, ``YouTube-real/``, ``Celeb-synthesis/`` holding the .mp4 files directly, and
``List_of_testing_videos.txt`` with lines ``<label> <folder>/<file>.mp4`` where **1 = real, 0 = fake**
(the opposite of the platform). Listed videos are the test split; everything else is train (no val).

YouTube-real handling (``youtube_real=``): ``all`` keeps listed YouTube-real videos in test
(DeepfakeBench); ``no_test`` drops the listed ones (FSFM's "NYR" test set) and keeps the rest in
train; ``none`` drops YouTube-real entirely.

Labels always come from the folder; the list's labels are cross-checked. For v1 the list's label
convention is unconfirmed: a list whose every label is inverted relative to its folders is accepted
(with a note); a mixed one is an error. v1's pre-release names (``Real_1``, ``Real_2``, ``deepfake``,
``test.txt``) are accepted as variants.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .base import DatasetAdapter, Scan, list_files, read_text_lines

FOLDERS = ("Celeb-real", "YouTube-real", "Celeb-synthesis")
LABEL = {"Celeb-real": 0, "YouTube-real": 0, "Celeb-synthesis": 1}


class CelebDFv2(DatasetAdapter):
    """Celeb-DF v2: 590 Celeb-real, 300 YouTube-real, 5639 Celeb-synthesis; official 518-video test list."""

    name = "celebdf_v2"
    defaults = {"youtube_real": "all"}
    aliases: dict[str, tuple[str, ...]] = {f: (f,) for f in FOLDERS}
    list_names: tuple[str, ...] = ("List_of_testing_videos.txt",)
    inverted_list_ok = False     # v2's convention is confirmed (1 = real)

    def _folders(self, root: Path) -> dict[str, Path]:
        found = {}
        for canon, names in self.aliases.items():
            for name in names:
                if (root / name).is_dir():
                    found[canon] = root / name
                    break
        lacking = [c for c in FOLDERS if c not in found]
        if lacking:
            raise self.layout_error(root, "folder(s) " + ", ".join(lacking) + " not found under the root")
        return found

    def _read_list(self, root: Path, folders: dict[str, Path], scan: Scan) -> dict[str, str]:
        """Map '<canonical folder>/<file>' -> canonical folder for every test-list entry."""
        path = self.require(root, *self.list_names, what="the official test list")
        lines = read_text_lines(path)
        by_dir = {p.name: canon for canon, p in folders.items()}
        entries: dict[str, str] = {}
        agree = disagree = 0
        for lineno, line in enumerate(lines, 1):
            parts = line.split(maxsplit=1)
            if len(parts) != 2 or parts[0] not in ("0", "1") or "/" not in parts[1]:
                raise self.layout_error(root, f"{path.name}:{lineno}: expected '<0|1> <folder>/<file>.mp4', got {line!r}")
            folder, _, fname = parts[1].strip().partition("/")
            canon = by_dir.get(folder)
            if canon is None:
                raise self.layout_error(root, f"{path.name}:{lineno}: unknown folder {folder!r} in {line!r}")
            real_in_list = parts[0] == "1"
            if real_in_list == (LABEL[canon] == 0):
                agree += 1
            else:
                disagree += 1
            key = f"{canon}/{fname}"
            if key in entries:
                scan.problems.append(f"{path.name}:{lineno}: {parts[1]} is listed twice")
            entries[key] = canon
        if disagree and agree:
            raise self.layout_error(root, f"{path.name}: {disagree} labels contradict their folders (the list uses "
                                          f"1 = real, 0 = fake; Celeb-synthesis must be 0)")
        if disagree:
            if not self.inverted_list_ok:
                raise self.layout_error(root, f"{path.name}: every label is inverted (the official list uses "
                                              f"1 = real, 0 = fake)")
            scan.notes.append(f"{path.name} uses 1 = fake, 0 = real (inverted); labels are taken from the folders")
        return entries

    def _scan(self, root: Path, opts: dict[str, Any]) -> Scan:
        scan = Scan()
        folders = self._folders(root)
        listed = self._read_list(root, folders, scan)
        mode = opts["youtube_real"]
        present: set[str] = set()
        for canon, folder in folders.items():
            for path in list_files(folder):
                key = f"{canon}/{path.name}"
                if not path.name.lower().endswith(".mp4"):
                    scan.extra.append(path.relative_to(root).as_posix())
                    continue
                present.add(key)
                split = "test" if key in listed else "train"
                if canon == "YouTube-real" and (mode == "none" or (mode == "no_test" and split == "test")):
                    continue
                meta: dict[str, Any] = {"folder": canon}
                stem = path.stem.split("_")
                if canon == "Celeb-synthesis" and len(stem) == 3:
                    meta.update(target=stem[0], swapped=stem[1], original=f"Celeb-real/{stem[0]}_{stem[2]}")
                scan.items.append(self.item(root, path, kind="video", label=LABEL[canon], split=split,
                                            video_id=f"{canon}/{path.stem}",
                                            manipulation="Celeb-synthesis" if LABEL[canon] else "real", meta=meta))
        for key in sorted(set(listed) - present):
            canon, _, fname = key.partition("/")
            scan.missing.append(f"{folders[canon].name}/{fname}")
        return scan


class CelebDFv1(CelebDFv2):
    """Celeb-DF v1: 408 real (158 Celeb-real + 250 YouTube-real) and 795 DeepFakes."""

    name = "celebdf_v1"
    aliases = {"Celeb-real": ("Celeb-real", "Real_1"), "YouTube-real": ("YouTube-real", "Real_2"),
               "Celeb-synthesis": ("Celeb-synthesis", "deepfake")}
    list_names = ("List_of_testing_videos.txt", "test.txt")
    inverted_list_ok = True      # v1's list convention is unconfirmed; labels come from folders
