"""Turn a dataset adapter's media items into face crops, parsing maps and a frame-level manifest.

Pipeline per media item (a video, an image, or a folder of frames):
sampled frames (uniform linspace, :mod:`.video`; ``frames`` per video, or per class with
``frames_real``/``frames_fake``) -> face detection on a bounded-size view (largest
face kept) -> landmarks (the parser's) -> FF++ 1.3x square crop resized to ``size`` -> 11-label
parsing map at the crop's size -> ``images/<key>/<frame>.png`` + ``parsing/<key>/<frame>.npy``.
Optionally (the demo, or SBI-style training data) each real crop also yields synthetic forgeries
(FORGERIES plugins) with their exact masks under ``masks/``.

Guarantees:
- resumable: each item ends with an atomic completion record ``.state/real/<key>.json`` (rows,
  failures, landmarks); a restarted run skips items that have one and redoes the rest, and every
  image/map is itself written atomically, so a kill never leaves a half-written file;
- nothing dropped silently: undecodable videos, frames that did not decode and frames without a
  face go to ``failures.jsonl`` and are counted in ``summary.json``;
- deterministic: forgery families, donors and random parameters are planned in the main process
  from ``seed`` and the item keys, independent of worker scheduling.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import re
import time
import zlib
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..errors import FsfmBenchError, UsageError
from ..io import atomic_open, atomic_save_npy, atomic_write_bytes, atomic_write_json, sha256_json
from .items import MediaItem
from .manifest import counts, write_manifest

STATE_DIR = ".state"
SPLITS = ("train", "val", "test")


@dataclass
class PrepareOptions:
    """Everything that changes the output (all but ``workers``/``progress`` enter the options hash)."""

    frames: int = 32                      # frames per video (uniform linspace); <= 0 = all
    frames_real: int | None = None        # frames per real video (label 0); None = ``frames``
    frames_fake: int | None = None        # frames per fake video (label 1); None = ``frames``
    size: int | None = 224                # crop side in pixels; None = native (as the official code)
    scale: float = 1.3                    # crop side / detection side (FF++)
    frame_sampling: str = "uniform"       # uniform (linspace) | mcio (frames 6 and 6 + T/2, the FAS preprocessing)
    detector: str = "dlib_hog"
    detector_options: dict[str, Any] = field(default_factory=dict)
    parser: str = "auto"
    parser_options: dict[str, Any] = field(default_factory=dict)
    align: bool | str = False             # true: 5-point similarity; "mtcnn_chip": the MCIO preprocessing's chip
    chip_padding: float = 0.37            # padding of align=mtcnn_chip (the MCIO preprocessing: 0.37)
    detect_max_side: int | None = 1920    # detection runs on a copy no longer than this
    reader: str = "auto"                  # video reader: auto | decord | pyav | opencv
    seed: int = 0
    augment: int = 0                      # extra augmented variants per still image (demo)
    forgeries: dict[str, list[str]] = field(default_factory=dict)   # split -> forgery families
    forgery_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    fakes_per_real: int = 1
    workers: int = 1
    progress: bool = True

    def frames_for(self, label: int) -> int:
        """Frames sampled per video of this label (FSFM's cdfd: 128 per real, 32 per fake)."""
        own = self.frames_fake if int(label) == 1 else self.frames_real
        return int(self.frames if own is None else own)

    def identity(self) -> dict[str, Any]:
        """The settings that change the output, canonical: equal per-class counts are written as
        ``frames`` alone (so folders prepared before per-class counts existed still resume, and
        ``frames=32`` == ``frames=32 frames_fake=32``); unequal ones as ``frames_real``/``frames_fake``
        only (so ``frames=128 frames_fake=32`` == ``frames=32 frames_real=128``)."""
        data = asdict(self)
        for key in ("workers", "progress", "frames", "frames_real", "frames_fake"):
            data.pop(key)
        if data.get("frame_sampling") == "uniform":      # the default stays out: older folders keep their hash
            data.pop("frame_sampling")
        if data.get("align") != "mtcnn_chip":            # only the chip uses it
            data.pop("chip_padding")
        real, fake = self.frames_for(0), self.frames_for(1)
        if real == fake:
            data["frames"] = real
        else:
            data["frames_real"], data["frames_fake"] = real, fake
        return data

    def worker_options(self) -> dict[str, Any]:
        """What the workers read: the identity plus the resolved per-class frame counts."""
        return {**self.identity(), "frames_real": self.frames_for(0), "frames_fake": self.frames_for(1)}


def frames_per_video(options: dict[str, Any]) -> dict[str, int]:
    """{"real": N, "fake": M} from an identity (``options.json``/``summary.json``) of any version."""
    return {"real": int(options.get("frames_real", options.get("frames", 0))),
            "fake": int(options.get("frames_fake", options.get("frames", 0)))}


# --------------------------------------------------------------------------------------------------
# worker side
_STATE: dict[str, Any] = {}


def _init_worker(opts: dict[str, Any]) -> None:
    """Build the detector and parser once per process (imports the plugins in the worker)."""

    cv2.setNumThreads(1)
    _STATE.clear()
    _STATE["opts"] = opts
    _STATE["detector"] = _build("detectors", "detector", opts["detector"], opts["detector_options"])
    _STATE["parser"] = _build("parsers", "parser", opts["parser"], opts["parser_options"])
    _STATE["forgeries"] = {}


def _build(kind: str, key: str, name: str, options: dict[str, Any]) -> Any:
    """Instantiate a detector/parser plugin; a ``detector.KEY=V`` it does not take is a UsageError."""
    import inspect

    from ..plugins import get

    cls = get(kind, name)
    try:
        inspect.signature(cls).bind(**options)
    except TypeError as exc:
        try:
            params = [p for p in inspect.signature(cls).parameters if p not in ("self", "args", "kwargs")]
        except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
            params = []
        valid = ", ".join(params) or "none"
        raise UsageError(f"{key} {name!r} does not take the option(s) {', '.join(map(repr, options))} ({exc}); "
                         f"its options: {valid}. Pass them as {key}.KEY=VALUE.") from None
    except ValueError:  # pragma: no cover - no introspectable signature: let the call decide
        pass
    return cls(**options)


def item_key(item: MediaItem) -> str:
    """A file-system-safe, collision-free folder name for an item: readable id + short path hash."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", item.video_id).strip("._")[:80] or "item"
    digest = hashlib.sha1(f"{item.source}|{item.path}|{item.video_id}".encode()).hexdigest()[:8]
    return f"{safe}-{digest}"


def _write_png(path: Path, rgb: np.ndarray) -> None:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR) if rgb.ndim == 3 else rgb)
    if not ok:
        raise FsfmBenchError(f"could not encode {path}")
    atomic_write_bytes(path, buf.tobytes())



def _read_png(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise FsfmBenchError(f"cannot read {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _frames_of(item: MediaItem, root: Path, opts: dict[str, Any]) -> tuple[list[tuple[int | None, np.ndarray]], dict, list[dict]]:
    """The sampled frames of one item as (frame_index, rgb), reader info, frame failures."""
    from .images import load_image
    from .video import read_sampled_frames, sample_indices

    media = root / item.path
    failures: list[dict] = []
    if item.kind == "image":
        return [(None, load_image(media))], {}, failures
    if item.kind == "frames":
        from .images import ImageReadError
        if not media.is_dir():
            raise ImageReadError(f"{media}: frame folder does not exist")
        files = sorted(p for p in media.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp", ".webp"))
        if not files:
            raise ImageReadError(f"{media}: frame folder holds no images")
        out = []
        for i in sample_indices(len(files), _frames_of_label(opts, item.label), sampling=opts.get("frame_sampling", "uniform")):
            try:
                out.append((i, load_image(files[i])))
            except FsfmBenchError as exc:
                failures.append({"frame_index": i, "stage": "decode", "reason": str(exc)})
        return out, {"frames_total": len(files)}, failures
    frame_range = item.meta.get("frame_range")
    sampled = read_sampled_frames(media, _frames_of_label(opts, item.label), opts["reader"],
                                  tuple(frame_range) if frame_range else None, opts.get("frame_sampling", "uniform"))
    for i, why in sampled.failed.items():
        failures.append({"frame_index": i, "stage": "decode", "reason": why})
    return (list(zip(sampled.indices, sampled.frames, strict=True)),
            {"reader": sampled.reader, "frames_total": sampled.total}, failures)


def _frames_of_label(opts: dict[str, Any], label: int) -> int:
    """Frames to sample for a video of ``label`` from the worker options (per class, else ``frames``)."""
    own = opts.get("frames_fake" if int(label) == 1 else "frames_real")
    return int(opts["frames"] if own is None else own)


def _augment(crop: np.ndarray, labels: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator):
    """A mild photometric + similarity augmentation applied identically to pixels, map and points."""
    h, w = crop.shape[:2]
    angle = rng.uniform(-10, 10)
    s = rng.uniform(0.92, 1.08)
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, s)
    matrix[:, 2] += rng.uniform(-0.04, 0.04, size=2) * [w, h]
    img = cv2.warpAffine(crop, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    lab = cv2.warpAffine(labels.astype(np.uint8), matrix, (w, h), flags=cv2.INTER_NEAREST,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=0).astype(np.int8)
    pts = landmarks @ matrix[:, :2].T + matrix[:, 2]
    out = img.astype(np.float32) * rng.uniform(0.8, 1.2) + rng.uniform(-20, 20)
    out = out + rng.uniform(-8, 8, size=3)
    if rng.random() < 0.5:
        out = cv2.GaussianBlur(out, (3, 3), rng.uniform(0.3, 1.0))
    out = np.clip(out + rng.normal(0, rng.uniform(0, 4), out.shape), 0, 255).astype(np.uint8)
    return out, lab, pts


def process_item(item_dict: dict[str, Any], root: str, out: str) -> dict[str, Any]:
    """Prepare one media item; returns its completion record (also written atomically)."""
    from .faces import crop_face, five_from_68, largest
    from .images import detection_view

    opts = _STATE["opts"]
    item = MediaItem(**item_dict)
    key = item_key(item)
    out_dir, root_dir = Path(out), Path(root)
    detector, parser = _STATE["detector"], _STATE["parser"]
    record: dict[str, Any] = {"key": key, "item": item.as_dict(), "rows": [], "failures": [], "landmarks": {},
                              "info": {}, "complete": True}
    base_fail = {"media": item.path, "video_id": item.video_id, "split": item.split, "label": item.label}
    try:
        frames, info, frame_failures = _frames_of(item, root_dir, opts)
    except FsfmBenchError as exc:
        record["failures"].append({**base_fail, "frame_index": None, "stage": "decode", "reason": str(exc)})
        return _finish(out_dir, record)
    record["info"] = info
    record["failures"] += [{**base_fail, **f} for f in frame_failures]
    meta_common = {k: v for k, v in {"reader": info.get("reader"), "parser": parser.name,
                                     "detector": opts["detector"], **item.meta}.items() if v is not None}
    for frame_index, rgb in frames:
        view, factor = detection_view(rgb, opts["detect_max_side"])
        dets = detector(view)
        det = largest(dets)
        if det is None:
            record["failures"].append({**base_fail, "frame_index": frame_index, "stage": "detect",
                                       "reason": "no face detected"})
            continue
        det = det.scaled(1.0 / factor)
        landmarks = parser.landmarks(rgb, det) if hasattr(parser, "landmarks") else None
        five = det.landmarks5 if det.landmarks5 is not None else (
            five_from_68(landmarks) if landmarks is not None else None)
        crop = crop_face(rgb, det, opts["size"], opts["scale"], opts["align"], five, opts.get("chip_padding", 0.37))
        lm_crop = crop.to_crop(landmarks) if landmarks is not None else None
        labels = parser.parse(crop.image, lm_crop)
        stem = "image" if frame_index is None else f"{frame_index:06d}"
        variants = [(stem, crop.image, labels, lm_crop, {})]
        if item.kind == "image" and opts["augment"] > 0 and lm_crop is not None:
            for k in range(1, opts["augment"] + 1):
                rng = np.random.default_rng([opts["seed"], zlib.crc32(key.encode()), k])
                a_img, a_lab, a_lm = _augment(crop.image, labels, lm_crop, rng)
                variants.append((f"{stem}_aug{k}", a_img, a_lab, a_lm, {"augment_of": item.video_id, "augment": k}))
        for name, img, lab, lm, extra in variants:
            img_rel = f"images/{key}/{name}.png"
            par_rel = f"parsing/{key}/{name}.npy"
            _write_png(out_dir / img_rel, img)
            atomic_save_npy(out_dir / par_rel, lab.astype(np.int8))
            # an augmented copy is another view of the same photo, not another video: it keeps the
            # photo's id, so video scores average over the copies and a bootstrap draws them together
            row = {"path": img_rel, "label": item.label, "video_id": item.video_id, "source": item.source,
                   "manipulation": item.manipulation, "split": item.split, "frame_index": frame_index,
                   "detector_score": round(float(det.score), 6),
                   "box": [int(v) for v in crop.box], "parsing": par_rel, "media": item.path,
                   "meta": {**meta_common, **extra}}
            record["rows"].append(row)
            if lm is not None:
                record["landmarks"][img_rel] = np.round(lm, 3).tolist()
    return _finish(out_dir, record)


def _finish(out_dir: Path, record: dict[str, Any]) -> dict[str, Any]:
    atomic_write_json(out_dir / STATE_DIR / "real" / f"{record['key']}.json", record, indent=None)
    return record


def process_fakes(job: dict[str, Any], out: str) -> dict[str, Any]:
    """Make the planned forgeries of one real item (its record key); returns its completion record."""
    from ..plugins import get

    opts = _STATE["opts"]
    out_dir = Path(out)
    record: dict[str, Any] = {"key": job["key"], "rows": [], "failures": []}
    for plan in job["plans"]:
        family = plan["family"]
        forgery = _STATE["forgeries"].get(family)
        if forgery is None:
            forgery = get("forgeries", family)(**opts["forgery_options"].get(family, {}))
            _STATE["forgeries"][family] = forgery
        real = plan["real"]
        image = _read_png(out_dir / real["path"])
        lm = np.asarray(plan["landmarks"], np.float64)
        donor = donor_lm = None
        if plan.get("donor"):
            donor = _read_png(out_dir / plan["donor"]["path"])
            donor_lm = np.asarray(plan["donor_landmarks"], np.float64)
        rng = np.random.default_rng(plan["seed"])
        try:
            fake, mask = forgery(image, lm, rng, donor=donor, donor_landmarks=donor_lm)
        except Exception as exc:  # noqa: BLE001 - recorded, the run goes on
            record["failures"].append({"media": real.get("media"), "video_id": real["video_id"], "split": real["split"],
                                       "label": 1, "frame_index": real.get("frame_index"), "stage": "forgery",
                                       "reason": f"{family}: {type(exc).__name__}: {exc}"})
            continue
        stem = Path(real["path"]).stem
        img_rel = f"images/fake/{family}/{job['key']}/{stem}_{plan['j']}.png"
        mask_rel = f"masks/{family}/{job['key']}/{stem}_{plan['j']}.png"
        _write_png(out_dir / img_rel, fake)
        _write_png(out_dir / mask_rel, mask)
        meta = {"forgery": family, "real": real["path"], "seed": plan["seed"]}
        if plan.get("donor"):
            meta["donor"] = plan["donor"]["path"]
        record["rows"].append({
            "path": img_rel, "label": 1, "video_id": f"{family}/{real['video_id']}", "source": real["source"],
            "manipulation": family, "split": real["split"], "frame_index": real.get("frame_index"),
            "detector_score": real.get("detector_score"), "box": real.get("box"),
            "parsing": real["parsing"] if getattr(forgery, "preserves_geometry", True) else None,
            "mask": mask_rel, "media": real.get("media"), "meta": meta})
    atomic_write_json(out_dir / STATE_DIR / "fake" / f"{job['key']}.json", record, indent=None)
    return record


# --------------------------------------------------------------------------------------------------
# main side
def _load_done(folder: Path) -> dict[str, dict]:
    done = {}
    if folder.is_dir():
        for p in sorted(folder.glob("*.json")):
            try:
                done[p.stem] = json.loads(p.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError):
                continue          # never trust a record we cannot read: redo that item
    return done


def _check_options(out_dir: Path, identity: dict[str, Any], dataset: str, root: str) -> None:
    path = out_dir / STATE_DIR / "options.json"
    wanted = {"dataset": dataset, "root": str(Path(root).resolve()), "options": identity}
    if path.is_file():
        try:
            have = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            have = None
        if have is not None and sha256_json(have) != sha256_json(wanted):
            old = have.get("options", {})
            frame_keys = ("frames", "frames_real", "frames_fake")
            diff = sorted(k for k in set(old) | set(identity)
                          if k not in frame_keys and old.get(k) != identity.get(k))
            was, now = frames_per_video(old), frames_per_video(identity)
            if was != now:
                diff.insert(0, f"frames per video real/fake {was['real']}/{was['fake']} -> "
                               f"{now['real']}/{now['fake']}")
            if have.get("dataset") != dataset:
                diff.insert(0, "dataset")
            if have.get("root") != wanted["root"]:
                diff.insert(0, "root")
            raise FsfmBenchError(f"{out_dir} was prepared with different settings ({', '.join(diff) or '?'}); "
                                 "resuming would mix them. Use a new out=PATH, or delete that folder")
    atomic_write_json(path, wanted)


def _map(fn, jobs: list, workers: int, opts: dict, progress: bool, desc: str, unit: str):
    """Run ``fn(*job)`` for every job, in-process (workers <= 1) or in a process pool; yield results."""
    from ..progress import Progress

    bar = Progress(len(jobs), desc, unit, mode=None if progress and jobs else "off")
    try:
        if workers <= 1 or len(jobs) <= 1:
            if _STATE.get("opts") is not opts:
                _init_worker(opts)
            for job in jobs:
                result = fn(*job)
                bar.update(1)
                yield result
            return
        methods = mp.get_all_start_methods()
        ctx = mp.get_context("fork" if "fork" in methods else "spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker,
                                 initargs=(opts,)) as pool:
            futures = [pool.submit(fn, *job) for job in jobs]
            try:
                for fut in as_completed(futures):
                    bar.update(1)
                    yield fut.result()
            except BaseException:
                for f in futures:
                    f.cancel()
                raise
    finally:
        bar.close()


def _remove_stale_temporaries(out_dir: Path) -> None:
    """Delete temporaries a killed run left (``.<name>.<random>.tmp`` from :func:`atomic_open`)."""
    for sub in ("images", "parsing", "masks", STATE_DIR, "."):
        folder = out_dir / sub
        if not folder.is_dir():
            continue
        pattern = ".*.tmp" if sub == "." else "**/.*.tmp"
        for tmp in folder.glob(pattern):
            if tmp.is_file():
                tmp.unlink(missing_ok=True)


def _plan_forgeries(real_records: list[dict], opts: dict[str, Any]) -> tuple[list[tuple], list[dict]]:
    """Decide, deterministically, which family (and donor) each real crop's fakes use."""
    from ..plugins import get

    jobs, failures = [], []
    families_by_split = {s: list(f) for s, f in (opts["forgeries"] or {}).items()}
    for split, fams in families_by_split.items():
        if split not in SPLITS:
            raise UsageError(f"forgeries: unknown split {split!r}; use train, val or test")
        for fam in fams:
            get("forgeries", fam)   # unknown names fail now, with suggestions
    pool: dict[str, list[tuple[dict, list, str]]] = {}
    for rec in real_records:
        ident = rec["item"]["meta"].get("identity") or rec["item"]["video_id"]
        for row in rec["rows"]:
            if row["label"] == 0 and row["path"] in rec["landmarks"]:
                pool.setdefault(row["split"], []).append((row, rec["landmarks"][row["path"]], ident))
    counter: Counter = Counter()
    for rec in real_records:
        plans = []
        ident = rec["item"]["meta"].get("identity") or rec["item"]["video_id"]
        for row in rec["rows"]:
            fams = families_by_split.get(row["split"])
            if not fams or row["label"] != 0 or row["path"] not in rec["landmarks"]:
                continue
            for j in range(opts["fakes_per_real"]):
                family = fams[counter[row["split"]] % len(fams)]
                counter[row["split"]] += 1
                seed = [opts["seed"], zlib.crc32(row["path"].encode()), j]
                plan = {"family": family, "real": row, "landmarks": rec["landmarks"][row["path"]], "seed": seed, "j": j}
                if getattr(get("forgeries", family), "needs_donor", False):
                    rng = np.random.default_rng(seed + [1])
                    others = [p for p in pool.get(row["split"], []) if p[2] != ident] or \
                             [p for p in pool.get(row["split"], []) if p[0]["video_id"] != row["video_id"]]
                    if not others:
                        failures.append({"media": row.get("media"), "video_id": row["video_id"], "split": row["split"],
                                         "label": 1, "frame_index": row.get("frame_index"), "stage": "forgery",
                                         "reason": f"{family}: no donor of another identity in split {row['split']}"})
                        continue
                    donor = others[int(rng.integers(len(others)))]
                    plan["donor"], plan["donor_landmarks"] = donor[0], donor[1]
                plans.append(plan)
        if plans:
            jobs.append(({"key": rec["key"], "plans": plans},))
    return jobs, failures


def prepare(items: list[MediaItem], root: str | os.PathLike, out: str | os.PathLike,
            options: PrepareOptions | None = None, dataset: str = "?") -> dict[str, Any]:
    """Prepare ``items`` (from a dataset adapter) under ``out``; returns the summary (also written)."""
    opts = options or PrepareOptions()
    if opts.size is not None and int(opts.size) < 8:
        raise UsageError(f"size={opts.size} is too small; use e.g. size=224 (or 64 for quick tests)")
    from .video import READERS

    if opts.reader not in (*READERS, "auto"):
        from ..errors import did_you_mean

        raise UsageError(f"unknown video reader {opts.reader!r}." + did_you_mean(opts.reader, (*READERS, "auto"))
                         + " Use reader=auto (or decord, pyav, opencv).")
    out_dir = Path(out)
    if out_dir.exists() and not out_dir.is_dir():
        raise FsfmBenchError(f"out={out_dir} is a file, not a folder; pass out= a new or earlier-prepared folder")
    started = time.time()
    identity = opts.identity()
    odict = opts.worker_options()
    # build detector and parser here first: unknown names, missing extras or weights fail before any work
    _init_worker(odict)
    identity["parser_resolved"] = _STATE["parser"].name      # what `parser=auto` became here
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FsfmBenchError(f"cannot create the output folder out={out_dir} ({exc.strerror or exc}); "
                             "pass out= a folder you can write to") from exc
    _check_options(out_dir, identity, dataset, str(root))
    _remove_stale_temporaries(out_dir)
    keys = [item_key(it) for it in items]
    if len(set(keys)) != len(keys):
        dup = [k for k, c in Counter(keys).items() if c > 1][0]
        raise FsfmBenchError(f"two media items map to the same output key {dup!r} (same source, path and video id)")

    done = _load_done(out_dir / STATE_DIR / "real")
    todo = [(it.as_dict(), str(root), str(out_dir)) for it, k in zip(items, keys, strict=True) if k not in done]
    skipped = len(items) - len(todo)
    retry_failures: list[dict] = []
    for rec in _map(_process_item_safe, todo, opts.workers, odict, opts.progress, "faces", "item"):
        if rec.get("complete"):
            done[rec["key"]] = rec
        else:
            retry_failures += rec["failures"]
    real_records = [done[k] for k in keys if k in done]

    fake_jobs, plan_failures = _plan_forgeries(real_records, odict) if opts.forgeries else ([], [])
    fake_done = _load_done(out_dir / STATE_DIR / "fake")
    fake_todo = [(job[0], str(out_dir)) for job in fake_jobs if job[0]["key"] not in fake_done]
    for rec in _map(process_fakes, fake_todo, opts.workers, odict, opts.progress, "forgeries", "item"):
        fake_done[rec["key"]] = rec
    fake_records = [fake_done[j[0]["key"]] for j in fake_jobs if j[0]["key"] in fake_done]

    rows = [r for rec in real_records for r in rec["rows"]] + [r for rec in fake_records for r in rec["rows"]]
    failures = [f for rec in real_records for f in rec["failures"]] + retry_failures + plan_failures + \
               [f for rec in fake_records for f in rec["failures"]]
    manifest_sha = write_manifest(out_dir / "manifest.jsonl", rows)
    with atomic_open(out_dir / "failures.jsonl", "w", encoding="utf-8") as handle:
        for f in failures:
            handle.write(json.dumps(f, ensure_ascii=False) + "\n")
    stages = Counter(f["stage"] for f in failures)
    readers = sorted({rec["info"].get("reader") for rec in real_records if rec["info"].get("reader")})
    parsers = sorted({r["meta"].get("parser") for r in rows if r.get("meta", {}).get("parser")})
    elapsed = time.time() - started
    summary = {
        "dataset": dataset, "root": str(Path(root).resolve()), "out": str(out_dir.resolve()),
        "options": identity, "workers": opts.workers, "frames_per_video": frames_per_video(identity),
        "video_reader": readers[0] if len(readers) == 1 else (readers or None),
        "parser": parsers[0] if len(parsers) == 1 else (parsers or None),
        "items": {"total": len(items), "prepared": len(real_records), "skipped_already_done": skipped,
                  "failed_to_decode": sum(1 for rec in real_records for f in rec["failures"]
                                          if f["stage"] == "decode" and f["frame_index"] is None),
                  "errors_to_retry": len(retry_failures),
                  "kinds": dict(sorted(Counter(item.kind for item in items).items()))},
        "frames": {"rows": len(rows), "real": sum(r["label"] == 0 for r in rows),
                   "fake": sum(r["label"] == 1 for r in rows),
                   "no_face": stages.get("detect", 0),
                   "decode_failed": sum(1 for f in failures if f["stage"] == "decode" and f["frame_index"] is not None),
                   "forgery_failed": stages.get("forgery", 0)},
        "forgeries": dict(sorted(Counter(r["manipulation"] for r in rows if r.get("mask")).items())),
        "counts": counts(rows), "manifest_sha256": manifest_sha, "failures": len(failures),
        "elapsed_s": round(elapsed, 3),
    }
    atomic_write_json(out_dir / "summary.json", summary)
    return summary


def _process_item_safe(item_dict: dict[str, Any], root: str, out: str) -> dict[str, Any]:
    """``process_item``; an unexpected error becomes a failure record without a completion record,
    so the item is retried on the next run instead of killing the whole pool."""
    try:
        return process_item(item_dict, root, out)
    except FsfmBenchError as exc:
        rec = {"key": item_key(MediaItem(**item_dict)), "complete": False, "failures": [
            {"media": item_dict["path"], "video_id": item_dict["video_id"], "split": item_dict["split"],
             "label": item_dict["label"], "frame_index": None, "stage": "error", "reason": str(exc)}]}
        return rec
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # noqa: BLE001
        return {"key": item_key(MediaItem(**item_dict)), "complete": False, "failures": [
            {"media": item_dict["path"], "video_id": item_dict["video_id"], "split": item_dict["split"],
             "label": item_dict["label"], "frame_index": None, "stage": "error",
             "reason": f"{type(exc).__name__}: {exc}"}]}
