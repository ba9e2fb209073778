"""Video compression rate change (VC): one video's frames re-encoded with H.264 at a CRF (PyAV).

DeeperForensics-1.0 re-encodes each video with ffmpeg's default H.264 encoder (libx264, preset
medium) at a constant rate factor. Here the frames a protocol scores (the face crops of one video
id, in frame order, at the scoring size) are encoded as one H.264 stream with libx264 at the
level's CRF and decoded again; an image that is no video (its video id holds one frame) is a
one-frame video, i.e. one intra-coded frame. One encoder thread: x264's output depends on its
thread count, and the cached scores must not depend on the machine.
"""
from __future__ import annotations

import io

import numpy as np

from fsfm_bench.perturb import Perturbation


class VideoCompression(Perturbation):
    """Video compression rate change (VC): H.264 (libx264) at a constant rate factor."""

    code, title, unit = "VC", "video compression rate change", "H.264 CRF (libx264, preset medium)"
    params, neutral = (30, 32, 35, 38, 40), None
    kind = "video"
    fps = 25

    def apply_video(self, frames: np.ndarray, level: int) -> np.ndarray:
        crf = self.param(level)
        frames = np.ascontiguousarray(frames, dtype=np.uint8)
        if crf is None or len(frames) == 0:
            return frames.copy()
        return encode_decode(frames, int(crf), self.fps)


def encode_decode(frames: np.ndarray, crf: int, fps: int = 25) -> np.ndarray:
    """uint8 [T, H, W, 3] RGB -> the same frames after an H.264 round trip (yuv420p, libx264)."""
    import av

    t, h, w, _ = frames.shape
    # yuv420p needs even sides: pad by edge replication, crop back after decoding
    padded = np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge") if (h % 2 or w % 2) else frames
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = padded.shape[2], padded.shape[1]
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf), "preset": "medium", "threads": "1"}
        for frame in padded:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    buffer.seek(0)
    out = []
    with av.open(buffer, mode="r") as container:
        for frame in container.decode(video=0):
            out.append(frame.to_ndarray(format="rgb24"))
    if len(out) != t:
        from fsfm_bench.errors import FsfmBenchError

        raise FsfmBenchError(f"VC: H.264 round trip returned {len(out)} frames for {t}; the PyAV build "
                             "may lack libx264 (python -c \"import av; print('libx264' in av.codecs_available)\")")
    return np.stack(out)[:, :h, :w]
