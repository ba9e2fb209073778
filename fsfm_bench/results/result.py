"""One run's result file: build it, validate it, write it atomically under a unique name, read it.

The layout is ``fsfm_bench/schemas/result.json`` (documented key by key). A result names its
per-sample scores file by a path relative to itself, so a results folder can be moved or archived.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import re
import uuid
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import FsfmBenchError, UsageError, did_you_mean
from ..io import atomic_write_json, sha256_file, sha256_json
from ..schemas import validate
from .compute import THRESHOLD_SOURCES
from .provenance import environment
from .scores import write_scores

SCHEMA_VERSION = "1.2"      # 1.2: optional `robustness` block (perturb=); 1.x files still read
SELECTION_POLICIES = ("source_val", "last", "target_oracle")
RESULT_GLOB = "result_*.json"


def utcnow() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def new_run_id() -> str:
    """Timestamp plus 12 random hex digits: unique across concurrent runs on any machines."""
    return _dt.datetime.now(_dt.UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:12]


def _plain(obj: Any) -> Any:
    """mmengine Config / numpy scalars -> plain JSON-able data."""
    if hasattr(obj, "to_dict"):
        obj = obj.to_dict()
    return json.loads(json.dumps(obj, default=lambda o: o.item() if hasattr(o, "item") else str(o)))


def _backbone_block(backbone: str | Mapping[str, Any], variant: str | None) -> dict[str, Any]:
    if isinstance(backbone, Mapping):
        block = dict(backbone)
        block.setdefault("variant", variant)
        return block
    from ..plugins import get_entry

    entry = get_entry("backbones", backbone)          # did-you-mean UsageError when unknown
    return {"name": backbone, "variant": variant, "plugin": entry.plugin.name,
            "distribution": entry.plugin.distribution, "version": entry.plugin.version}


def _protocol_block(protocol: str | Mapping[str, Any], metrics, targets, granularities) -> dict[str, Any]:
    if isinstance(protocol, Mapping):
        block = dict(protocol)
    else:
        pid, _, version = str(protocol).partition("@")
        if not version.isdigit():
            raise UsageError(f"protocol must be written id@version (e.g. cdfd@1), got {protocol!r}")
        block = {"id": pid, "version": int(version)}
    block.setdefault("aggregation", "mean_prob_by_video_id")
    block.setdefault("positive_class", "fake/attack (label 1)")
    if metrics is not None:
        block.setdefault("metrics", list(metrics))
    if targets is not None:
        block.setdefault("targets", list(targets))
    if granularities is not None:
        block.setdefault("granularities", list(granularities))
    return block


def build_result(*, protocol: str | Mapping[str, Any], backbone: str | Mapping[str, Any],
                 results: Mapping[str, Any], config: Any, data: Mapping[str, Any],
                 selection_policy: str, threshold_source: str, seeds: Mapping[str, Any],
                 checkpoint_sha256: str | None = None, checkpoint_path: str | None = None,
                 checkpoint_card: str | None = None, variant: str | None = None,
                 config_hash: str | None = None, preprocessing: Mapping[str, Any] | None = None,
                 bootstrap: Mapping[str, Any] | None = None, wall_time_s: float | None = None,
                 started_at: str | None = None, finished_at: str | None = None,
                 label: str | None = None, scores_file: str | None = None,
                 metrics: list[str] | None = None, finetuned: Mapping[str, Any] | None = None,
                 train_wall_time_s: float | None = None,
                 robustness: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Assemble a result dict (validated when written). Provenance is collected here.

    ``results`` is what :func:`~fsfm_bench.results.compute.compute_metrics` returned; ``data`` maps
    split keys (e.g. ``"test/CDFv2"``) to ``{manifest_hash, counts, ...}``; ``protocol`` is
    ``"cdfd@1"`` or a dict with at least id, version, targets, granularities and metrics.
    """
    if selection_policy not in SELECTION_POLICIES:
        raise UsageError(f"unknown selection_policy {selection_policy!r}."
                         + did_you_mean(str(selection_policy), SELECTION_POLICIES))
    if threshold_source not in THRESHOLD_SOURCES:
        raise UsageError(f"unknown threshold_source {threshold_source!r}."
                         + did_you_mean(str(threshold_source), THRESHOLD_SOURCES))
    results = _plain(results)
    targets = list(results)
    grans = list(dict.fromkeys(g for t in results.values() for g in t))
    names = metrics or list(dict.fromkeys(m for t in results.values() for g in t.values() for m in g))
    config = _plain(config)
    stored_hash = sha256_json(config)          # what fsfm_bench.config.config_hash computes
    if config_hash is not None and config_hash != stored_hash:
        # never lose a finished run over it: record the hash of the config actually stored
        warnings.warn(f"build_result: config_hash {config_hash[:12]}… does not match the config "
                      f"passed ({stored_hash[:12]}…); the config was changed after hashing. The result "
                      "records the hash of the stored config.", RuntimeWarning, stacklevel=2)
    config_hash = stored_hash
    finished = finished_at or utcnow()
    result: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "run_id": new_run_id(),
        "created_at": utcnow(),
        **({"label": label} if label else {}),
        "protocol": _protocol_block(protocol, names, targets, grans),
        "backbone": _backbone_block(backbone, variant),
        "checkpoint": {"sha256": checkpoint_sha256, "path": checkpoint_path, "card": checkpoint_card,
                       **({"finetuned": dict(finetuned)} if finetuned else {})},
        "config": config,
        "config_hash": config_hash,
        "data": _plain(data),
        "preprocessing": dict(preprocessing or {}),
        "selection_policy": selection_policy,
        "threshold_source": threshold_source,
        "seeds": _plain(seeds),
        "bootstrap": dict(bootstrap or {"n_resamples": 0, "confidence": 0.95, "seed": 0}),
        "environment": environment(),
        "timing": {"started_at": started_at, "finished_at": finished,
                   "wall_time_s": float(wall_time_s or 0.0),
                   **({"train_wall_time_s": float(train_wall_time_s)} if train_wall_time_s is not None else {})},
        "results": results,
        "scores_file": scores_file or "",
    }
    if robustness:              # perturb=: per condition results; write_result adds its scores file
        result["robustness"] = {**_plain(robustness), "scores_file": ""}
    return result


def validate_result(result: Mapping[str, Any], what: str = "result") -> None:
    """Schema validation plus the checks JSON Schema cannot express; FsfmBenchError when invalid."""
    validate(dict(result), "result", what)
    major = str(result["schema_version"]).split(".")[0]
    if major != SCHEMA_VERSION.split(".")[0]:
        raise FsfmBenchError(f"{what} has schema_version {result['schema_version']}; this fsfm-bench "
                             f"reads {SCHEMA_VERSION.split('.')[0]}.x")
    if result["config_hash"] != sha256_json(result["config"]):
        raise FsfmBenchError(f"{what}: config_hash does not match the stored config (edited by hand?)")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(text)).strip("-") or "x"


def result_filename(result: Mapping[str, Any]) -> str:
    """``result_<protocol>-v<version>_<backbone>[-<variant>]_s<seed>_<run_id>.json`` (run_id is unique)."""
    p, b = result["protocol"], result["backbone"]
    name = b["name"] + (f"-{b['variant']}" if b.get("variant") else "")
    return (f"result_{_slug(p['id'])}-v{p['version']}_{_slug(name)}_s{result['seeds'].get('seed')}_"
            f"{_slug(result['run_id'])}.json")


def write_result(result: dict[str, Any], results_dir: str | os.PathLike, scores=None,
                 scores_format: str = "csv", robustness_scores=None) -> Path:
    """Validate and atomically write ``result`` (and its scores, when given) into ``results_dir``.

    ``robustness_scores``: the perturbed per-sample scores of a result with a ``robustness`` block
    (written beside it as ``<result>.robustness.scores.csv``).

    Names are unique per run (run id), so two runs writing into one folder at once both land;
    each file appears whole or not at all. Returns the result file's path.
    """
    out = Path(results_dir)
    out.mkdir(parents=True, exist_ok=True)
    path, lock = _claim(out, result)
    try:
        if scores is not None:
            if scores_format not in ("csv", "jsonl"):
                raise UsageError(f"scores_format must be csv or jsonl, got {scores_format!r}")
            scores_file = path.with_name(path.name[:-len(".json")] + f".scores.{scores_format}")
            result["scores_file"] = scores_file.name
            validate_result(result, f"result {path.name}")       # nothing is written for a bad result
            write_scores(scores_file, scores)
            readable(scores_file)
            result["scores_sha256"] = sha256_file(scores_file)
        if robustness_scores is not None and result.get("robustness"):
            from .robustness import SCORES_SUFFIX

            rob_file = path.with_name(path.name[:-len(".json")] + SCORES_SUFFIX)
            result["robustness"]["scores_file"] = rob_file.name
            write_scores(rob_file, robustness_scores)
            readable(rob_file)
            result["robustness"]["scores_sha256"] = sha256_file(rob_file)
        validate_result(result, f"result {path.name}")
        atomic_write_json(path, result)
        readable(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(lock)
    return path


def readable(path: str | os.PathLike) -> None:
    """Give a file written through a temp file (mode 0600) the usual 0666 & ~umask permissions."""
    umask = os.umask(0)
    os.umask(umask)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o666 & ~umask)


def _claim(out: Path, result: dict[str, Any]) -> tuple[Path, Path]:
    """Reserve a file name no other writer holds or has written (O_EXCL lock, then existence).

    Two writers of results with the same run id (e.g. copies of one dict) race for one name; the
    loser takes a fresh run id. The lock is removed once the result is in place.
    """
    from ..locks import try_acquire

    remove_orphans(out)
    for _ in range(100):
        path = out / result_filename(result)
        lock = out / f".{path.name}.lock"
        if not try_acquire(lock):
            result["run_id"] = new_run_id()
            continue
        if path.exists():
            os.unlink(lock)
            result["run_id"] = new_run_id()
            continue
        return path, lock
    raise FsfmBenchError(f"could not reserve a unique result file name in {out}")


def remove_orphans(results_dir: str | os.PathLike) -> list[Path]:
    """Clear what a writer killed mid-way left in ``results_dir``: its stale claim lock (owner gone,
    see :mod:`fsfm_bench.locks`) and the scores file written before a result that never came.
    Returns the files removed."""
    from ..locks import break_if_stale

    removed = []
    for lock in Path(results_dir).glob(".result_*.json.lock"):
        if not break_if_stale(lock):
            continue
        removed.append(lock)
        result = lock.with_name(lock.name[1:-len(".lock")])
        if not result.exists():
            for scores in lock.parent.glob(result.name[:-len(".json")] + ".scores.*"):
                with contextlib.suppress(FileNotFoundError):
                    scores.unlink()
                    removed.append(scores)
    return removed


def read_result(path: str | os.PathLike, validate_it: bool = True) -> dict[str, Any]:
    """Load (and by default validate) one result file."""
    path = Path(path)
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise FsfmBenchError(f"result file {path} does not exist; pass the path of a result_*.json "
                             "that `fsfm-bench run` or `eval` wrote") from exc
    except IsADirectoryError as exc:
        raise FsfmBenchError(f"result file {path} is a folder; pass one result_*.json inside it") from exc
    except OSError as exc:
        raise FsfmBenchError(f"cannot read result file {path}: {exc.strerror or exc}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FsfmBenchError(f"result file {path} is not valid JSON ({exc})") from exc
    if validate_it:
        validate_result(result, f"result {path.name}")
    return result


def scores_path(result: Mapping[str, Any], result_path: str | os.PathLike) -> Path:
    """Absolute path of a result's per-sample scores file."""
    return (Path(result_path).parent / result["scores_file"]).resolve()


def new_result_from(original: Mapping[str, Any], original_path: str | os.PathLike,
                    results: Mapping[str, Any], info: Mapping[str, Any],
                    out_dir: str | os.PathLike) -> Path:
    """Write a rescored copy of ``original`` into ``out_dir``: new run id, same scores file.

    ``info`` is what ``rescore`` computed: ``settings`` (granularities, threshold_source, metrics,
    n_resamples, confidence, seed) and ``changes`` (the key=value pairs the user gave).
    """
    import copy

    settings, changes = info["settings"], dict(info["changes"])
    file_sha = changes.pop("_file_sha256")
    result = copy.deepcopy(dict(original))
    result["run_id"] = new_run_id()
    result["created_at"] = utcnow()
    result["results"] = _plain(results)
    result["protocol"]["metrics"] = list(settings["metrics"])
    result["protocol"]["granularities"] = list(settings["granularities"])
    result["threshold_source"] = settings["threshold_source"]
    result["bootstrap"] = {"n_resamples": settings["n_resamples"], "confidence": settings["confidence"],
                           "seed": settings["seed"]}
    result["derived_from"] = {"file": os.path.basename(os.fspath(original_path)), "sha256": file_sha,
                              "changes": _plain(changes)}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    src_scores = scores_path(original, original_path)
    result["scores_file"] = os.path.relpath(src_scores, out.resolve())
    if info.get("robustness"):          # recomputed by rescore; the perturbed scores stay where they are
        from .robustness import robustness_scores_path

        result["robustness"] = _plain(info["robustness"])
        result["robustness"]["scores_file"] = os.path.relpath(robustness_scores_path(original, original_path),
                                                              out.resolve())
    path = out / result_filename(result)
    validate_result(result, f"result {path.name}")
    atomic_write_json(path, result)
    readable(path)
    return path
