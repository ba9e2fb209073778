"""From a protocol's sources and targets to the exact rows a run trains, validates and scores on.

Where the data is (a user points at each dataset once):

1. ``data.roots.<dataset>=PATH`` on the command line (or in a config);
2. the environment variable ``FSFM_BENCH_ROOT_<DATASET>`` (e.g. ``FSFM_BENCH_ROOT_FFPP``);
3. the user file ``$FSFM_BENCH_DATASETS`` or ``~/.config/fsfm-bench/datasets.yaml``, holding
   ``roots: {ffpp: /data/FF++, ...}`` (and optionally ``prepared: {...}``).

A root is the dataset as its authors ship it; ``data.prepared.<dataset>=DIR`` instead names an
already prepared folder (``manifest.jsonl`` + images). Otherwise the dataset is prepared once
(adapter ``index`` -> ``fsfm_bench.data.prepare``) into ``<cache>/prepared/<dataset>-<hash>`` at
exactly the frames per video the protocol needs, per class (cdfd: 128 per real and 32 per fake FF++
video, so no fake frame is detected only to be thrown away); the hash covers the prepare settings, so
another protocol asking for the same dataset, options and counts reuses the folder. A use needing
fewer frames than were prepared (two uses of one dataset with different counts) subsamples them
uniformly.

Every dataset is resolved before anything trains: a missing one stops the run with ONE message
naming each missing dataset, its expected root and layout, and the ``fsfm-bench data verify``
command.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from ..data.integrity import forget_damaged_items, manifest_problem
from ..data.manifest import manifest_hash, read_manifest
from ..errors import FsfmBenchError
from ..io import atomic_open, sha256_json
from ..paths import prepared_cache
from .spec import PREPARE_KEY, Protocol, Source

USER_FILE_ENV = "FSFM_BENCH_DATASETS"


def user_file() -> Path:
    return Path(os.environ.get(USER_FILE_ENV) or Path.home() / ".config" / "fsfm-bench" / "datasets.yaml").expanduser()


def _user_entries() -> dict[str, Any]:
    path = user_file()
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise FsfmBenchError(f"{path} is not valid YAML ({exc}); it should hold `roots: {{ffpp: /path, ...}}`") from exc
    if not isinstance(data, dict):
        raise FsfmBenchError(f"{path} must hold a mapping such as `roots: {{ffpp: /path}}`")
    return data


def dataset_root(name: str, cfg: dict[str, Any]) -> tuple[str | None, str]:
    """(root or None, where it came from) for a dataset name."""
    roots = (cfg.get("data") or {}).get("roots") or {}
    if roots.get(name):
        return str(roots[name]), f"data.roots.{name}"
    env = f"FSFM_BENCH_ROOT_{name.upper()}"
    if os.environ.get(env):
        return os.environ[env], env
    user = _user_entries().get("roots") or {}
    if user.get(name):
        return str(user[name]), str(user_file())
    return None, ""


def prepared_override(name: str, cfg: dict[str, Any]) -> str | None:
    given = ((cfg.get("data") or {}).get("prepared") or {}).get(name)
    if given:
        return str(given)
    user = _user_entries().get("prepared") or {}
    return str(user[name]) if user.get(name) else None


def _adapter(name: str):
    from ..plugins import get

    return get("datasets", name)()


def _bundled(adapter) -> bool:
    """Datasets shipped inside a package (the demo) need no root."""
    return callable(getattr(adapter, "default_root", None))


def missing_message(protocol_ref: str, missing: list[tuple[str, str]],
                    outcome: str = "cannot start, nothing was trained") -> str:
    """One message for every dataset without a root (see the module docstring).

    ``missing`` may name a dataset once per role (cdfas: a source in three variants, the target of
    the fourth); each dataset is described once, with all its roles.
    """
    roles: dict[str, list[str]] = {}
    for name, role in missing:
        if role not in roles.setdefault(name, []):
            roles[name].append(role)
    parts = []
    for name, its_roles in roles.items():
        try:
            card = _adapter(name).card
            layout = card.get("layout", {})
            where = layout.get("root", "the folder the authors' archives extract to")
            expected = "; ".join(layout.get("required", [])) or "see the card"
            title = card.get("title", name)
            url = (card.get("obtain") or {}).get("url")
        except Exception:  # noqa: BLE001 - a dataset without a card still gets a useful message
            where, expected, title, url = "its official layout", "see the dataset card", name, None
        get = f"; get it from {url}" if url else ""
        parts.append(f"dataset {name!r} ({title}; {', '.join(its_roles)}) has no usable root: expected root = "
                     f"{where}, holding {expected}; set data.roots.{name}=PATH and check it with "
                     f"`fsfm-bench data verify dataset={name} root=PATH`{get}.")
    also = f"A root can also come from FSFM_BENCH_ROOT_<NAME> or `roots: {{NAME: PATH}}` in {user_file()}."
    if len(parts) == 1:
        return f"protocol {protocol_ref} {outcome}: {parts[0]} ({also})"
    # still one error, but laid out one dataset per line: five datasets in one line are unreadable
    return "\n".join([f"protocol {protocol_ref} {outcome}: {len(parts)} datasets have no usable root.",
                      *(f"  - {part}" for part in parts), also])


def eval_datasets(protocol: Protocol) -> dict[str, str]:
    """Dataset -> role, for what scoring a fine-tuned checkpoint needs: the targets, and the
    validation data only when the threshold is ``source_val_eer`` (a hold-out validation is cut
    from the training sources, so they are needed then)."""
    roles: dict[str, str] = {}
    if protocol.threshold == "source_val_eer":
        if isinstance(protocol.validation, Source):
            roles[protocol.validation.dataset] = "validation source, for the source_val_eer threshold"
        else:
            for s in protocol.train:
                roles.setdefault(s.dataset, "training source, its hold-out sets the source_val_eer threshold")
    return _with_targets(protocol, roles)


def run_datasets(protocol: Protocol) -> dict[str, str]:
    """Dataset -> role, for what a run needs: the training sources, a validation source, the targets."""
    roles: dict[str, str] = {}
    for s in protocol.train:
        roles.setdefault(s.dataset, "training source")
    if isinstance(protocol.validation, Source):
        roles.setdefault(protocol.validation.dataset, "validation source")
    return _with_targets(protocol, roles)


def _with_targets(protocol: Protocol, roles: dict[str, str]) -> dict[str, str]:
    for t in protocol.targets:
        roles.setdefault(t.dataset, f"target {t.name}" + (" (optional)" if t.optional else ""))
    return roles


FramesNeed = dict[str, "int | None"]      # {"real": N, "fake": M}; None = every frame


def frames_need(src: Source) -> FramesNeed:
    """The frames per video one use needs, per class (None = every frame)."""
    return {"real": src.frames_for(0), "fake": src.frames_for(1)}


def _merge_need(a: FramesNeed, b: FramesNeed) -> FramesNeed:
    """Per class, the larger of two needs (None, every frame, wins)."""
    return {c: None if (a[c] is None or b[c] is None) else max(a[c], b[c]) for c in ("real", "fake")}


def _frames_needed(protocol: Protocol) -> dict[tuple[str, str], FramesNeed]:
    """(dataset, options json) -> per class, the most frames per video any use of it needs."""
    need: dict[tuple[str, str], FramesNeed] = {}
    uses = list(protocol.train) + list(protocol.targets)
    if isinstance(protocol.validation, Source):
        uses.append(protocol.validation)
    for src in uses:
        key = (src.dataset, json.dumps(src.use_options(), sort_keys=True))
        frames = frames_need(src)
        need[key] = _merge_need(need[key], frames) if key in need else frames
    return need


def _as_need(frames: int | FramesNeed | None) -> FramesNeed:
    """``get``'s ``frames`` argument (one count for both classes, or per class) as a per-class need."""
    if isinstance(frames, dict):
        return {"real": frames.get("real"), "fake": frames.get("fake")}
    return {"real": frames, "fake": frames}


@dataclass
class Prepared:
    """A prepared dataset folder and its manifest rows."""

    dataset: str
    folder: Path
    rows: list[dict[str, Any]]
    manifest_sha256: str


class DataResolver:
    """Resolves (and prepares, once) every dataset of a protocol; then selects rows per use."""

    def __init__(self, cfg: dict[str, Any], progress: bool = True) -> None:
        self.cfg = cfg
        self.progress = progress
        self._prepared: dict[tuple[str, str], Prepared] = {}

    def check(self, protocols: list[Protocol], evaluation_only: bool = False) -> list[str]:
        """Raise one FsfmBenchError for every required dataset without a root; return notes
        about optional targets that will be skipped. ``evaluation_only`` (``fsfm-bench eval``):
        only what scoring needs is required, the targets and, when the threshold is
        ``source_val_eer``, the validation data (see :func:`eval_datasets`)."""
        missing: list[tuple[str, str]] = []
        notes: list[str] = []
        for protocol in protocols:
            roles = eval_datasets(protocol) if evaluation_only else run_datasets(protocol)
            for name, role in roles.items():
                if self.available(name):
                    root, origin = dataset_root(name, self.cfg)
                    if root and not prepared_override(name, self.cfg) and not os.path.isdir(root):
                        missing.append((name, f"{role}; the root {root} from {origin} is not a folder"))
                    continue
                optional_only = all(t.optional for t in protocol.targets if t.dataset == name) and \
                    role.startswith("target")
                if optional_only:
                    notes.append(f"optional target dataset {name!r} has no root: skipped "
                                 f"(set data.roots.{name}=PATH to include it)")
                elif (name, role) not in missing:
                    missing.append((name, role))
        if missing:
            raise FsfmBenchError(missing_message(protocols[0].ref.split("/")[0], missing,
                                                 "cannot be evaluated" if evaluation_only else
                                                 "cannot start, nothing was trained"))
        return notes

    def available(self, name: str) -> bool:
        if prepared_override(name, self.cfg) or dataset_root(name, self.cfg)[0]:
            return True
        return _bundled(_adapter(name))

    def prepare(self, protocol: Protocol, only: set[str] | None = None) -> None:
        """Prepare every dataset use of the protocol (skipping optional targets without data), or
        only the datasets in ``only`` -- at the frames ALL uses need, so the folders are the run's."""
        for (name, options_json), frames in _frames_needed(protocol).items():
            if not self.available(name) or (only is not None and name not in only):
                continue
            self.get(name, json.loads(options_json), frames)

    def get(self, name: str, options: dict[str, Any], frames: int | FramesNeed | None) -> Prepared:
        """The prepared folder of (dataset, options), prepared on first use at ``frames`` per video
        (one count, or ``{"real": N, "fake": M}``; None = every frame)."""
        key = (name, json.dumps(options, sort_keys=True))
        if key in self._prepared:
            return self._prepared[key]
        folder_text = prepared_override(name, self.cfg)
        if folder_text:
            folder = Path(folder_text).expanduser()
            if not (folder / "manifest.jsonl").is_file():
                raise FsfmBenchError(f"data.prepared.{name}={folder} holds no manifest.jsonl; prepare it with "
                                     f"`fsfm-bench prepare dataset={name} root=PATH out={folder}`")
            problem = manifest_problem(folder)
            if problem:
                raise FsfmBenchError(f"data.prepared.{name}={folder}: {problem}; prepare it again with "
                                     f"`fsfm-bench prepare dataset={name} root=PATH out={folder}`")
        else:
            folder = self._prepare(name, options, _as_need(frames))
        rows = read_manifest(folder / "manifest.jsonl")
        prepared = Prepared(name, folder, rows, manifest_hash(rows))
        self._prepared[key] = prepared
        return prepared

    def _prepare(self, name: str, options: dict[str, Any], frames: FramesNeed) -> Path:
        from ..data.prepare import PrepareOptions, prepare

        adapter = _adapter(name)
        root, _ = dataset_root(name, self.cfg)
        if root is None and _bundled(adapter):
            root = str(adapter.default_root())
        if root is None:
            raise FsfmBenchError(missing_message(name, [(name, "dataset")]))
        index_options = {k: v for k, v in options.items() if k != PREPARE_KEY}
        items = adapter.index(root, **index_options)    # wrong root/layout: the adapter's clear error
        base = dict(getattr(adapter, "prepare_defaults", {}) or {})
        base.update((self.cfg.get("data") or {}).get("prepare") or {})
        base.update(options.get(PREPARE_KEY) or {})     # the protocol's settings for this use win
        # per class, exactly what the protocol's uses of this dataset need; a class the protocol
        # leaves open (None) takes the configured/default `frames`, else every frame
        base.setdefault("frames", 0)
        for cls in ("real", "fake"):
            if frames[cls] is not None:
                base[f"frames_{cls}"] = int(frames[cls])
        if frames["real"] is not None and frames["real"] == frames["fake"]:
            base["frames"] = int(frames["real"])         # one count: the canonical, pre-per-class form
            base.pop("frames_real", None)
            base.pop("frames_fake", None)
        base.setdefault("progress", self.progress)
        opts = PrepareOptions(**base)
        digest = sha256_json({"dataset": name, "root": str(Path(root).resolve()), "options": options,
                              "prepare": opts.identity()})[:12]
        folder = prepared_cache(self.cfg) / f"{name}-{digest}"
        if not (folder / "summary.json").is_file() or not (folder / "manifest.jsonl").is_file():
            prepare(items, root, folder, opts, dataset=name)
        if manifest_problem(folder):       # changed since preparing: redo what is damaged, then recheck
            forget_damaged_items(folder)
            prepare(items, root, folder, opts, dataset=name)
            problem = manifest_problem(folder)
            if problem:
                raise FsfmBenchError(f"prepared {name} in {folder}: {problem}; delete that folder and rerun")
        return folder

    # -- selection -------------------------------------------------------------------------------
    def rows_for(self, src: Source) -> tuple[list[dict[str, Any]], Prepared]:
        """The rows of one use: split, manipulations, meta match, frames per video (uniform)."""
        prepared = self.get(src.dataset, src.use_options(), frames_need(src))
        rows = [r for r in prepared.rows if r["split"] == src.split]
        if src.manipulations is not None:
            keep = set(src.manipulations)
            rows = [r for r in rows if r.get("manipulation", "real" if r["label"] == 0 else "?") in keep]
        for key, want in src.match.items():
            wanted = set(want) if isinstance(want, list) else {want}
            rows = [r for r in rows if (r.get("meta") or {}).get(key, r.get(key)) in wanted]
        rows = subsample_frames(rows, src)
        out = [local_row(r, prepared) for r in rows]
        if not out:
            raise FsfmBenchError(f"{src.dataset} split {src.split} has no rows after the protocol's filters "
                                 f"(manipulations={list(src.manipulations or [])}, match={src.match}); "
                                 f"prepared data: {prepared.folder}")
        return out, prepared


#: manifest columns holding paths relative to the prepared folder (absolute in a run's rows)
FOLDER_PATHS = ("path", "parsing", "mask")
#: what ``rows_for`` adds to a manifest row: which dataset it is and where its prepared folder is
LOCAL_KEYS = ("dataset", "prepared_dir")


def local_row(row: dict[str, Any], prepared: Prepared) -> dict[str, Any]:
    """A manifest row as a run uses it: every folder-relative path (image, parsing map, mask) made
    absolute against the one prepared folder, plus the dataset name and that folder, so
    :func:`published_row` can give back exactly the manifest's own, location-independent row."""
    folder = prepared.folder.expanduser().resolve()
    out = {**row, "source": row.get("source", prepared.dataset), "dataset": prepared.dataset,
           "prepared_dir": str(folder)}
    for key in FOLDER_PATHS:
        if out.get(key):
            out[key] = str(folder / out[key])
    return out


def published_row(row: dict[str, Any]) -> dict[str, Any]:
    """The location-independent form of a run's row: the row as the prepared manifest.jsonl stores it
    (paths relative to the prepared folder, no local keys). Rows without ``prepared_dir`` are
    returned as they are."""
    folder = row.get("prepared_dir")
    if not folder:
        return row
    out = {k: v for k, v in row.items() if k not in LOCAL_KEYS}
    for key in FOLDER_PATHS:
        if out.get(key):
            out[key] = Path(out[key]).relative_to(folder).as_posix()
    return out


def provenance_hash(rows: list[dict[str, Any]]) -> str:
    """The hash results publish as ``data.*.manifest_hash``: over :func:`published_row` of each row,
    so the same data gives the same hash wherever the cache lives (for a whole prepared split it
    equals ``manifest_hash`` of those manifest rows)."""
    return manifest_hash(published_row(r) for r in rows)


def published_path(row: dict[str, Any]) -> str:
    """The ``path`` a per-sample scores file publishes: ``<dataset>/<path in the prepared folder>``."""
    if not row.get("prepared_dir"):
        return str(row["path"])
    return f"{row.get('dataset') or row.get('source')}/{published_row(row)['path']}"


def subsample_frames(rows: list[dict[str, Any]], src: Source) -> list[dict[str, Any]]:
    """Keep ``frames_for(label)`` frames per video id, uniformly spread (linspace) over its frames."""
    if src.frames_per_video is None:
        return rows
    by_video: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_video.setdefault(str(r["video_id"]), []).append(r)
    out = []
    for vid in by_video:
        frames = sorted(by_video[vid], key=lambda r: (r.get("frame_index") if r.get("frame_index") is not None else -1,
                                                      r["path"]))
        k = src.frames_for(int(frames[0]["label"]))
        if k is None or k <= 0 or len(frames) <= k:      # <= 0: every frame, as prepare
            out += frames
        else:
            picks = np.linspace(0, len(frames) - 1, k, dtype=int)    # FSFM's sampling, as prepare's
            out += [frames[i] for i in picks]
    return out


def holdout_split(rows: list[dict[str, Any]], fraction: float) -> tuple[list[dict], list[dict]]:
    """Deterministic video-level hold-out, stratified by label: in each class the videos with the
    smallest hash(source, video id) -- round(fraction * n), at least one -- are validation."""
    held: set[tuple[Any, str]] = set()
    for label in (0, 1):
        videos = sorted({(r.get("source"), str(r["video_id"])) for r in rows if int(r["label"]) == label},
                        key=lambda v: hashlib.sha1(f"{v[0]}/{v[1]}".encode()).hexdigest())
        if len(videos) >= 2:
            held.update(videos[:max(1, round(fraction * len(videos)))])
    train = [r for r in rows if (r.get("source"), str(r["video_id"])) not in held]
    val = [r for r in rows if (r.get("source"), str(r["video_id"])) in held]
    if not val or not train or len({int(r["label"]) for r in val}) < 2:
        raise FsfmBenchError(f"a {fraction:.0%} video-level hold-out of {len(rows)} training rows leaves "
                             f"{len(train)} train / {len(val)} validation rows; the sources are too small")
    return train, val


def write_rows(path: Path, rows: list[dict[str, Any]]) -> str:
    """A run's split file (JSONL; image, parsing and mask paths absolute), written atomically;
    returns its location-independent hash (:func:`provenance_hash`)."""
    with atomic_open(path, "w", encoding="utf-8") as handle:
        for r in rows:
            handle.write(json.dumps(r, ensure_ascii=False) + "\n")
    return provenance_hash(rows)
