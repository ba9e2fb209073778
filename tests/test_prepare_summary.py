"""What `fsfm-bench prepare` prints reads right for the media it prepared: still images are
"images", never "frames per video" or "videos"; videos keep their per-video wording."""
from __future__ import annotations

import cv2
from prepare_helpers import face

from fsfm_bench.cli import main


def test_still_images_are_called_images(tmp_path, capsys):
    for split_dir, name in (("real", "grace_hopper"), ("real", "obama"), ("fake", "biden")):
        (tmp_path / "ds" / split_dir).mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(tmp_path / "ds" / split_dir / f"{name}.jpg"), face(name, 240))
    assert main(["prepare", "dataset=folder", f"root={tmp_path / 'ds'}", f"out={tmp_path / 'out'}",
                 "--quiet"]) == 0
    captured = capsys.readouterr()
    out = captured.out
    assert "  media: 3 total (3 images), 3 done" in out
    assert "frames per video" not in out and "video" not in out.replace("video_reader", "")
    assert "0 images without a face, 0 images not decoded" in out
    assert '  test  {"images": 3, "fake": 1, "real": 2}' in out
    assert captured.err == ""                            # --quiet: no progress either


def test_videos_keep_the_per_video_wording():
    import contextlib
    import io

    from fsfm_bench.commands.prepare import _print_summary

    summary = {"dataset": "x", "out": "/o", "elapsed_s": 1.0, "video_reader": "decord", "parser": "geometric",
               "options": {"detector": "dlib_hog"},
               "items": {"total": 3, "prepared": 3, "skipped_already_done": 0, "failed_to_decode": 0,
                         "errors_to_retry": 0, "kinds": {"image": 1, "video": 2}},
               "frames_per_video": {"real": 8, "fake": 4},
               "frames": {"rows": 13, "real": 9, "fake": 4, "no_face": 1, "decode_failed": 0, "forgery_failed": 0},
               "forgeries": {}, "counts": {"test": {"frames": 13, "real": 9, "fake": 4, "videos": 3}},
               "manifest_sha256": "ab" * 32, "failures": 1}
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        _print_summary(summary)
    out = buf.getvalue()
    assert "(1 image, 2 videos)" in out and "frames per video: 8 per real, 4 per fake" in out
    assert "1 frames without a face" in out and '{"frames": 13, "real": 9, "fake": 4, "videos": 3}' in out
