"""VGGFace2 (Cao et al., FG 2018; the authors' README in the meta archive), real faces for pretraining.

Layout::

    <root>/train/n<6 digits>/<imageID>_<faceID>.jpg     8631 identities
    <root>/test/n<6 digits>/<imageID>_<faceID>.jpg      500 identities (disjoint)
    <root>/train_list.txt, test_list.txt                lines 'n000002/0001_01.jpg' (optional here)
    <root>/identity_meta.csv, bb_landmark/ ...          (optional)

Every image is real (label 0). When the lists are present they are the truth (missing/extra);
otherwise the folders are walked. The video id of an image is its own path (one face per item);
the identity is in ``meta``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .base import IMAGE_EXTS, DatasetAdapter, Scan, as_list, read_text_lines, rel_posix, walk_files


class VGGFace2(DatasetAdapter):
    """VGGFace2: 3.31M loosely cropped faces of 9131 identities (train 8631 / test 500)."""

    name = "vggface2"
    defaults = {"splits": ["train", "test"]}

    def _scan(self, root: Path, opts: dict[str, Any]) -> Scan:
        scan = Scan()
        for split in as_list(opts["splits"]):
            folder = self.require(root, split, what=f"folder {split}/ (identity folders n000001, ...)")
            listed: set[str] | None = None
            list_path = root / f"{split}_list.txt"
            if list_path.is_file():
                listed = set(read_text_lines(list_path))
            found = set()
            for path in walk_files(folder, IMAGE_EXTS):
                rel = rel_posix(path, folder)
                parts = rel.split("/")
                if len(parts) != 2 or not (parts[0].startswith("n") and parts[0][1:].isdigit()):
                    scan.extra.append(f"{split}/{rel}")
                    continue
                if listed is not None and rel not in listed:
                    scan.extra.append(f"{split}/{rel}")
                    continue
                found.add(rel)
                scan.items.append(self.item(root, path, kind="image", label=0, split=split, manipulation="real",
                                            meta={"identity": parts[0]}))
            if listed is not None:
                scan.missing.extend(f"{split}/{r}" for r in sorted(listed - found))
            else:
                scan.notes.append(f"{split}_list.txt absent: {split}/ was walked without a file list")
        return scan
