"""Image loading (gray, RGBA, 16-bit, huge), the FF++ crop, detectors and LaPa parsing maps."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from prepare_helpers import face

from fsfm_bench.data.faces import Detection, crop_box, crop_face, largest
from fsfm_bench.data.images import ImageReadError, detection_view, load_image
from fsfm_bench.data.parsing import NUM_LABELS, rasterize_lapa, template_landmarks
from fsfm_bench.errors import FsfmBenchError, UsageError
from fsfm_bench.plugins import get


def test_load_gray_rgba_16bit(tmp_path):
    bgr = face("grace_hopper", 120)
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    cv2.imwrite(str(tmp_path / "g.png"), gray)
    g = load_image(tmp_path / "g.png")
    assert g.shape == (*gray.shape, 3) and g.dtype == np.uint8 and (g[..., 0] == gray).all()

    rgba = np.dstack([bgr, np.full(gray.shape, 255, np.uint8)])
    rgba[:, : rgba.shape[1] // 2, 3] = 0                     # left half transparent
    cv2.imwrite(str(tmp_path / "a.png"), rgba)
    a = load_image(tmp_path / "a.png")
    assert a.shape == (*gray.shape, 3)
    assert a[:, : a.shape[1] // 2].max() == 0                # composited over black
    assert (a[:, -5:] == bgr[:, -5:, ::-1]).all()            # opaque part unchanged, RGB order

    deep = bgr.astype(np.uint16) * 257
    cv2.imwrite(str(tmp_path / "d.png"), deep)
    d = load_image(tmp_path / "d.png")
    assert d.dtype == np.uint8 and (d == bgr[..., ::-1]).all()


def test_unreadable_images(tmp_path):
    (tmp_path / "z.png").write_bytes(b"")
    with pytest.raises(ImageReadError, match="zero-byte"):
        load_image(tmp_path / "z.png")
    (tmp_path / "t.jpg").write_text("not an image")
    with pytest.raises(ImageReadError, match="not a decodable image"):
        load_image(tmp_path / "t.jpg")


def test_huge_image_is_downscaled_for_detection_and_cropped_at_full_resolution(tmp_path):
    canvas = np.full((1200, 10000, 3), 120, np.uint8)
    f = face("grace_hopper", 1100)
    canvas[50:1150, 4000:4000 + f.shape[1]] = f
    cv2.imwrite(str(tmp_path / "wide.jpg"), canvas)
    img = load_image(tmp_path / "wide.jpg")
    view, scale = detection_view(img, 1920)
    assert max(view.shape[:2]) == 1920 and scale == pytest.approx(0.192)
    det = largest(get("detectors", "dlib_hog")()(view))
    assert det is not None
    full = det.scaled(1 / scale)
    cx = (full.box[0] + full.box[2]) / 2
    assert 4000 < cx < 4000 + f.shape[1]                    # the face, in full-resolution coordinates
    crop = crop_face(img, full, 64)
    assert crop.image.shape == (64, 64, 3)


def test_crop_box_follows_ffpp_get_boundingbox():
    # centred box: side = int(max(w, h) * 1.3)
    assert crop_box((100, 100, 200, 180), (1000, 1000)) == (85, 75, 215, 205)
    # at the top-left border: top-left clipped to 0, side kept
    assert crop_box((0, 0, 100, 100), (1000, 1000)) == (0, 0, 130, 130)
    # at the bottom-right border: side shrinks to fit (never padded)
    x0, y0, x1, y1 = crop_box((900, 900, 1000, 1000), (1000, 1000))
    assert (x1, y1) == (1000, 1000) and x1 - x0 == y1 - y0 == 115


def test_largest_face_is_kept():
    small = Detection((0, 0, 10, 10), 3.0)
    big = Detection((0, 0, 50, 40), 0.5)
    assert largest([small, big]) is big and largest([]) is None


def test_align_needs_five_points():
    img = np.zeros((100, 100, 3), np.uint8)
    with pytest.raises(FsfmBenchError, match="five facial points"):
        crop_face(img, Detection((30, 30, 70, 70), 1.0), 32, align=True)
    pts = np.array([[40, 45], [60, 45], [50, 55], [42, 63], [58, 63]], float)
    crop = crop_face(img, Detection((30, 30, 70, 70), 1.0, pts), 32, align=True)
    mapped = crop.to_crop(pts)
    assert crop.aligned and mapped[0, 0] < mapped[1, 0] and mapped[2, 1] > mapped[0, 1]


@pytest.mark.parametrize("name", ["dlib_hog", "haar"])
def test_detectors_find_the_bundled_faces(name):
    det = get("detectors", name)()
    img = load_image(__import__("prepare_helpers").default_root() / "images" / "grace_hopper.jpg")
    found = largest(det(img))
    assert found is not None
    x0, y0, x1, y1 = found.box          # SOURCES.md: MTCNN box [174,119,355,340]
    assert abs((x0 + x1) / 2 - 264) < 30 and abs((y0 + y1) / 2 - 230) < 40
    assert det(np.full((200, 200, 3), 128, np.uint8)) == []


def test_mtcnn_missing_is_a_clear_install_message():
    pytest.importorskip("torch")
    try:
        import facenet_pytorch  # noqa: F401
        pytest.skip("facenet-pytorch is installed")
    except ImportError:
        pass
    with pytest.raises(FsfmBenchError, match="pip install --no-deps facenet-pytorch"):
        get("detectors", "mtcnn")()


def test_geometric_parser_labels_regions_in_the_right_places():
    parser = get("parsers", "geometric")()
    det = Detection((20, 20, 100, 100), 1.0)
    img = np.zeros((120, 120, 3), np.uint8)
    lm = parser.landmarks(img, det)
    crop = crop_face(img, det, 104)
    labels = parser.parse(crop.image, crop.to_crop(lm))
    assert labels.dtype == np.int8 and labels.shape == (104, 104)
    assert set(np.unique(labels)) == set(range(NUM_LABELS))          # all 11 labels present
    ys, xs = np.nonzero(labels == 4)      # subject's right eye is on the image left
    ys5, xs5 = np.nonzero(labels == 5)
    assert xs.mean() < 52 < xs5.mean()
    assert np.nonzero(labels == 10)[0].mean() < ys.mean() < np.nonzero(labels == 7)[0].mean()
    assert labels[0, 0] == 0 and labels[-1, 52] in (0, 1)


def test_rasterize_from_five_point_fit_follows_the_points():
    base = template_landmarks((0, 0, 100, 100))
    five = np.array([[30, 29], [70, 29], [50, 52], [32, 80], [68, 80]], float) + [200, 50]
    moved = template_landmarks((0, 0, 100, 100), five)
    assert np.abs(moved.mean(0) - (base.mean(0) + [200, 50])).max() < 5
    labels = rasterize_lapa(moved - [150, 0], (200, 200))
    assert (labels > 0).any() and labels.dtype == np.int8


def test_dlib68_without_weights_is_clear_or_works():
    from fsfm_bench_plugins.parsers.landmarks import find_predictor
    if find_predictor() is not None:
        assert get("parsers", "auto")().name == "dlib68"
    else:
        with pytest.raises(FsfmBenchError, match="face-recognition-models"):
            get("parsers", "dlib68")()
        assert get("parsers", "auto")().name == "geometric"
    with pytest.raises(UsageError, match="Did you mean"):
        get("parsers", "geometirc")


def test_mtcnn_when_installed_matches_reference_boxes():
    pytest.importorskip("facenet_pytorch")
    det = get("detectors", "mtcnn")()
    img = load_image(__import__("prepare_helpers").default_root() / "images" / "grace_hopper.jpg")
    found = largest(det(img))
    assert np.abs(np.array(found.box) - [174, 119, 355, 340]).max() < 4     # SOURCES.md reference box
    assert found.landmarks5.shape == (5, 2)
    assert crop_face(img, found, 64, align=True).aligned


def test_dlib68_parser_when_weights_are_installed():
    from fsfm_bench_plugins.parsers.landmarks import find_predictor
    if find_predictor() is None:
        pytest.skip("dlib's 68-point model is not installed (optional extra fsfm-bench[dlib68])")
    img = load_image(__import__("prepare_helpers").default_root() / "images" / "grace_hopper.jpg")
    d = largest(get("detectors", "dlib_hog")()(img))
    parser = get("parsers", "dlib68")()
    lm = parser.landmarks(img, d)
    geo = get("parsers", "geometric")().landmarks(img, d)
    iod = np.linalg.norm(lm[36:42].mean(0) - lm[42:48].mean(0))
    assert lm.shape == (68, 2) and lm[36:42, 0].mean() < lm[42:48, 0].mean() < lm[16, 0]
    assert np.linalg.norm(lm - geo, axis=1).mean() / iod < 0.2        # the template is a fair stand-in
    crop = crop_face(img, d, 96)
    labels = parser.parse(crop.image, crop.to_crop(lm))
    assert set(np.unique(labels)) >= {0, 1, 2, 3, 4, 5, 6, 7, 9, 10}
