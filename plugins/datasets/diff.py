"""DiFF, diffusion facial forgeries (``xaCheng1996/DiFF`` README; FSFM README "DiFF Folder Structure").

Layout::

    <root>/DiFF_real/{train,val,test}/...           pristine images (released on request)
    <root>/{val,test}/{T2I,I2I,FS,FE}/<method>/...   synthesised images (train/ too if present)

Every ``.jpg``/``.png`` below a subset folder is fake (label 1, manipulation = subset, method = the
first folder below it); every image below ``DiFF_real/<split>/`` is real. Labels are set
explicitly, never from folder order (FSFM's 2025-08 fix). Per-method folder spellings are
unconfirmed, so only the subset level is interpreted; subsets are matched case-insensitively.
The real folder may also be called ``real`` (the name FSFM's fix renames it to).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .base import IMAGE_EXTS, DatasetAdapter, Scan, as_list, list_files, rel_posix, walk_files

SUBSETS = ("T2I", "I2I", "FS", "FE")
REAL_DIRS = ("DiFF_real", "real")


class DiFF(DatasetAdapter):
    """DiFF: 500k+ diffusion-generated faces in four families (T2I, I2I, FS, FE) plus real images."""

    name = "diff"
    defaults = {"subsets": list(SUBSETS), "splits": ["val", "test"], "include_real": True}

    def _scan(self, root: Path, opts: dict[str, Any]) -> Scan:
        scan = Scan()
        if not any((root / s).is_dir() for s in ("val", "test", "train", *REAL_DIRS)) and (root / "DiFF").is_dir():
            root_used, prefix = root / "DiFF", "DiFF/"
        else:
            root_used, prefix = root, ""
        subsets = [s.upper() for s in as_list(opts["subsets"])]
        splits = as_list(opts["splits"])
        for split in splits:
            split_dir = root_used / split
            if not split_dir.is_dir():
                raise self.layout_error(root, f"folder {prefix}{split}/ (the {split} fakes) not found")
            by_upper = {p.name.upper(): p for p in split_dir.iterdir() if p.is_dir()}
            for child in sorted(split_dir.iterdir()):
                if child.is_dir() and child.name.upper() not in SUBSETS:
                    scan.extra.append(prefix + rel_posix(child, root_used) + "/")
            scan.extra.extend(prefix + rel_posix(p, root_used) for p in list_files(split_dir))
            for subset in subsets:
                folder = by_upper.get(subset)
                if folder is None:
                    scan.missing.append(f"{prefix}{split}/{subset}/")
                    continue
                for path in walk_files(folder, IMAGE_EXTS):
                    rel = rel_posix(path, folder)
                    method = rel.split("/")[0] if "/" in rel else ""
                    scan.items.append(self.item(root, prefix + rel_posix(path, root_used), kind="image", label=1,
                                                split=split, manipulation=subset, meta={"method": method}))
        if opts["include_real"]:
            real = next((root_used / d for d in REAL_DIRS if (root_used / d).is_dir()), None)
            if real is None:
                raise self.layout_error(root, f"folder {prefix}DiFF_real/ (the real images, released on request) "
                                              f"not found; pass include_real=false to index only the fakes")
            for split in splits:
                if not (real / split).is_dir():
                    scan.missing.append(f"{prefix}{real.name}/{split}/")
                    continue
                for path in walk_files(real / split, IMAGE_EXTS):
                    scan.items.append(self.item(root, prefix + rel_posix(path, root_used), kind="image", label=0,
                                                split=split, manipulation="real"))
        return scan
