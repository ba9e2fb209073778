"""Read only the sampled frames of a video (uniform ``linspace``), with the fastest reader present.

FSFM (and FF++/DeepfakeBench) sample ``np.linspace(0, T-1, N, dtype=int)``: N frames spread
uniformly, first and last included. decord seeks to those frames directly; it has wheels for
x86_64 Linux and Windows only, so where it is missing PyAV, then OpenCV, take over (chosen
automatically; the reader used is returned so that the manifest/summary can record it).

Bad input never passes silently: a missing, zero-byte, non-video or undecodable file raises
:class:`VideoReadError` with the reason; a truncated video yields the frames that decode and
reports the indices that did not.
"""
from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import FsfmBenchError, UsageError

READERS = ("decord", "pyav", "opencv")


class VideoReadError(FsfmBenchError):
    """A video that cannot be decoded at all (the failures file records the message)."""


@dataclass
class SampledFrames:
    """The frames that decoded (RGB uint8 HxWx3), their indices, and what went wrong."""

    frames: list[np.ndarray]
    indices: list[int]
    total: int                      # frame count the container reports (or counted)
    reader: str
    failed: dict[int, str] = field(default_factory=dict)   # wanted index -> why it did not decode


SAMPLINGS = ("uniform", "mcio")
MCIO_FIRST = 6          # the MCIO preprocessing's first frame index


def sample_indices(total: int, num: int, frame_range: tuple[int, int] | None = None,
                   sampling: str = "uniform") -> list[int]:
    """FSFM's uniform sampling: ``np.linspace(0, T-1, N, dtype=int)``; ``num <= 0`` or ``>= T``: all.

    ``frame_range = (start, stop)`` samples the same way inside ``[start, stop)`` (a clip of a video).
    ``sampling="mcio"``: the anti-spoofing preprocessing's two frames, 6 and ``6 + floor(T / 2)``
    (clipped to the last frame; ``num`` is ignored), see docs/protocol-fidelity.md.
    """
    start, stop = (0, total) if frame_range is None else (max(0, int(frame_range[0])), min(total, int(frame_range[1])))
    span = stop - start
    if span <= 0:
        return []
    if sampling == "mcio":
        return sorted({start + min(span - 1, MCIO_FIRST), start + min(span - 1, MCIO_FIRST + span // 2)})
    if sampling != "uniform":
        raise UsageError(f"frame_sampling must be one of {', '.join(SAMPLINGS)}, got {sampling!r}")
    if num <= 0 or num >= span:
        return list(range(start, stop))
    return [start + i for i in sorted(set(np.linspace(0, span - 1, num, dtype=int).tolist()))]


def available_readers() -> list[str]:
    """The readers importable here, in order of preference."""
    mods = {"decord": "decord", "pyav": "av", "opencv": "cv2"}
    return [r for r in READERS if importlib.util.find_spec(mods[r]) is not None]


def resolve_reader(reader: str = "auto") -> str:
    """``auto`` -> the first available of decord, PyAV, OpenCV; a named one must be importable."""
    available = available_readers()
    if reader == "auto":
        if not available:
            raise FsfmBenchError("no video reader is installed: pip install decord (x86_64), av or "
                                 "opencv-python-headless")
        return available[0]
    if reader not in READERS:
        from ..errors import did_you_mean
        raise UsageError(f"unknown video reader {reader!r}." + did_you_mean(reader, READERS + ("auto",)))
    if reader not in available:
        raise FsfmBenchError(f"video reader {reader!r} is not installed here (available: "
                             f"{', '.join(available) or 'none'}); use reader=auto")
    return reader


def check_video_file(path: str | os.PathLike) -> None:
    """Fail fast, with a reason, on files no reader could open."""
    p = Path(path)
    if not p.exists():
        raise VideoReadError(f"{p}: file does not exist")
    if not p.is_file():
        raise VideoReadError(f"{p}: not a regular file")
    if p.stat().st_size == 0:
        raise VideoReadError(f"{p}: zero-byte file (an interrupted download or copy?)")


def read_sampled_frames(path: str | os.PathLike, num_frames: int, reader: str = "auto",
                        frame_range: tuple[int, int] | None = None, sampling: str = "uniform") -> SampledFrames:
    """Decode only ``sample_indices(T, num_frames, frame_range, sampling)`` of ``path`` (<= 0 = every frame)."""
    check_video_file(path)
    name = resolve_reader(reader)
    fn = {"decord": _read_decord, "pyav": _read_pyav, "opencv": _read_opencv}[name]
    out = fn(str(path), num_frames, frame_range, sampling)
    if not out.frames:
        why = "; ".join(f"{i}: {m}" for i, m in list(out.failed.items())[:3])
        raise VideoReadError(f"{path}: none of the sampled frames decoded with {name}"
                             + (f" ({why})" if why else ""))
    return out


def _read_decord(path: str, num: int, frame_range=None, sampling: str = "uniform") -> SampledFrames:
    import decord
    import decord.logging

    decord.logging.set_level(decord.logging.QUIET)   # FFmpeg's own lines on stderr: our error says it

    try:
        vr = decord.VideoReader(path, ctx=decord.cpu(0), num_threads=1)
    except Exception as exc:  # decord raises its own DECORDError (a RuntimeError)
        raise VideoReadError(f"{path}: not a decodable video (decord: {_short(exc)})") from exc
    total = len(vr)
    if total == 0:
        raise VideoReadError(f"{path}: the container reports 0 frames")
    wanted = sample_indices(total, num, frame_range, sampling)
    _check_wanted(path, wanted, total, frame_range)
    try:
        batch = vr.get_batch(wanted).asnumpy()
        return SampledFrames(list(batch), wanted, total, "decord")
    except Exception:  # truncated file: read the frames one by one, keep those that decode
        frames, got, failed = [], [], {}
        for i in wanted:
            try:
                frames.append(vr[i].asnumpy())
                got.append(i)
            except Exception as exc:  # noqa: BLE001 - recorded per frame
                failed[i] = f"decord: {_short(exc)}"
        return SampledFrames(frames, got, total, "decord", failed)


def _read_pyav(path: str, num: int, frame_range=None, sampling: str = "uniform") -> SampledFrames:
    import av

    try:
        container = av.open(path)
    except Exception as exc:
        raise VideoReadError(f"{path}: not a decodable video (PyAV: {_short(exc)})") from exc
    with container:
        if not container.streams.video:
            raise VideoReadError(f"{path}: the container has no video stream")
        stream = container.streams.video[0]
        total = int(stream.frames or 0)
        if total <= 0:   # some containers do not store the count: count packets-decoded frames first
            total = sum(1 for _ in container.decode(video=0))
            container.seek(0)
        if total == 0:
            raise VideoReadError(f"{path}: no frame decodes")
        wanted = sample_indices(total, num, frame_range, sampling)
        _check_wanted(path, wanted, total, frame_range)
        want = set(wanted)
        frames, got = [], []
        try:
            for i, frame in enumerate(container.decode(video=0)):
                if i in want:
                    frames.append(frame.to_ndarray(format="rgb24"))
                    got.append(i)
                if i >= wanted[-1]:
                    break
        except Exception:  # noqa: BLE001 - truncated stream: keep what decoded
            pass
    failed = {i: "PyAV: stream ended before this frame (truncated?)" for i in wanted if i not in set(got)}
    return SampledFrames(frames, got, total, "pyav", failed)


def _read_opencv(path: str, num: int, frame_range=None, sampling: str = "uniform") -> SampledFrames:
    import cv2

    cap = cv2.VideoCapture(path)
    try:
        if not cap.isOpened():
            raise VideoReadError(f"{path}: not a decodable video (OpenCV could not open it)")
        total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        if total <= 0:
            raise VideoReadError(f"{path}: OpenCV reports 0 frames")
        wanted = sample_indices(total, num, frame_range, sampling)
        _check_wanted(path, wanted, total, frame_range)
        want = set(wanted)
        frames, got = [], []
        for i in range(wanted[-1] + 1):     # sequential grab: seeking is unreliable in OpenCV
            if not cap.grab():
                break
            if i in want:
                ok, bgr = cap.retrieve()
                if ok:
                    frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
                    got.append(i)
    finally:
        cap.release()
    failed = {i: "OpenCV: stream ended before this frame (truncated?)" for i in wanted if i not in set(got)}
    return SampledFrames(frames, got, total, "opencv", failed)


def read_all_frames_opencv(path: str | os.PathLike) -> int:
    """Decode every frame sequentially with OpenCV (the baseline the benchmark compares against)."""
    import cv2

    cap = cv2.VideoCapture(str(path))
    n = 0
    while True:
        ok, _ = cap.read()
        if not ok:
            break
        n += 1
    cap.release()
    return n


def _check_wanted(path: str, wanted: list[int], total: int, frame_range) -> None:
    if not wanted:
        raise VideoReadError(f"{path}: frame range {frame_range} selects no frame of {total}")


def _short(exc: BaseException, limit: int = 200) -> str:
    """The reason in a library's error, without decord's C++ check noise, cut at a word boundary.

    decord reports ``[hh:mm:ss] /src/...cc:61: Check failed: <expr> (-22 vs. 0) Cannot create
    buffer source``: only the trailing sentence says anything to a user.
    """
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else type(exc).__name__
    check = re.search(r"Check failed: .*?\(-?\d+ vs\. -?\d+\)\s*(.*)$", text)
    if check:
        text = check.group(1) or "its decoder could not be set up"
    text = re.sub(r"^\[\d\d:\d\d:\d\d\] \S+:\d+: ", "", text)
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0] + " …"
    return text
