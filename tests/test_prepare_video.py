"""Sampled frame reading (decord, PyAV, OpenCV) and clear errors for bad video files."""
from __future__ import annotations

import numpy as np
import pytest
from prepare_helpers import face_video

from fsfm_bench.data.video import VideoReadError, available_readers, read_sampled_frames, resolve_reader, sample_indices
from fsfm_bench.errors import UsageError


def test_sample_indices_match_fsfm_linspace():
    assert sample_indices(472, 8) == np.linspace(0, 471, 8, dtype=int).tolist()
    assert sample_indices(472, 8)[0] == 0 and sample_indices(472, 8)[-1] == 471
    assert sample_indices(5, 32) == [0, 1, 2, 3, 4]          # fewer frames than asked: all of them
    assert sample_indices(5, 0) == [0, 1, 2, 3, 4]
    assert sample_indices(100, 3, (10, 20)) == [10, 14, 19]
    assert sample_indices(0, 4) == []


@pytest.mark.parametrize("reader", ["decord", "pyav", "opencv"])
def test_readers_agree_on_sampled_frames(tmp_path, reader):
    if reader not in available_readers():
        pytest.skip(f"{reader} not installed")
    path = face_video(tmp_path / "v.mp4", n=20)
    out = read_sampled_frames(path, 5, reader)
    assert out.reader == reader and out.total == 20
    assert out.indices == [0, 4, 9, 14, 19]
    assert len(out.frames) == 5 and out.frames[0].shape == (240, 320, 3) and out.frames[0].dtype == np.uint8
    ref = read_sampled_frames(path, 5, "opencv")
    # same frames whatever the reader (decoders may differ by rounding only)
    assert np.abs(out.frames[2].astype(int) - ref.frames[2]).mean() < 2.0


def test_auto_prefers_decord_and_unknown_reader_is_usage_error():
    assert resolve_reader("auto") == available_readers()[0]
    with pytest.raises(UsageError, match="did you mean|Did you mean"):
        resolve_reader("decrod")


def test_zero_byte_missing_and_non_video(tmp_path):
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(VideoReadError, match="zero-byte"):
        read_sampled_frames(tmp_path / "empty.mp4", 4)
    with pytest.raises(VideoReadError, match="does not exist"):
        read_sampled_frames(tmp_path / "nope.mp4", 4)
    (tmp_path / "text.mp4").write_text("this is not a video\n" * 50)
    for reader in available_readers():
        with pytest.raises(VideoReadError, match="not a decodable video|0 frames|no video stream|no frame"):
            read_sampled_frames(tmp_path / "text.mp4", 4, reader)


def test_truncated_video_gives_partial_frames_or_clear_error(tmp_path):
    path = face_video(tmp_path / "full.mp4", n=30)
    data = path.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    for reader in available_readers():
        try:
            out = read_sampled_frames(cut, 6, reader)
        except VideoReadError as exc:
            assert str(cut) in str(exc)
            continue
        # what decoded is a strict subset; what did not is listed with a reason
        assert len(out.frames) == len(out.indices) and len(out.frames) >= 1
        assert set(out.indices) | set(out.failed) == set(sample_indices(out.total, 6))


def test_decord_errors_read_as_a_reason_not_a_cpp_check():
    """decord's C++ check text (time, source path, expression) is cut down to its trailing reason."""
    from fsfm_bench.data.video import _short

    raw = RuntimeError('[22:05:25] /github/workspace/src/video/ffmpeg/filter_graph.cc:61: Check failed: '
                       'avfilter_graph_create_filter(&buffersrc_ctx_, buffersrc, "in", args, __null, '
                       'filter_graph_.get()) >= 0 (-22 vs. 0) Cannot create buffer source')
    assert _short(raw) == "Cannot create buffer source"
    assert _short(RuntimeError("[10:00:00] /src/x.cc:12: ERROR opening: bad header")) == "ERROR opening: bad header"
    long = _short(RuntimeError("word " * 100), limit=30)
    assert long.endswith(" …") and len(long) <= 32 and "wor …" not in long
