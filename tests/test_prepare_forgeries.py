"""FORGERIES: exact masks (pixels outside unchanged), determinism, donors, attack simulations."""
from __future__ import annotations

import numpy as np
import pytest
from prepare_helpers import default_root

from fsfm_bench.data.faces import crop_face, largest
from fsfm_bench.data.images import load_image
from fsfm_bench.plugins import get

FAMILIES = ["sbi", "face_swap", "region", "print_attack", "replay_attack"]


@pytest.fixture(scope="module")
def crops():
    det, parser = get("detectors", "dlib_hog")(), get("parsers", "geometric")()
    out = []
    for name in ("obama.jpg", "grace_hopper.jpg"):
        img = load_image(default_root() / "images" / name)
        d = largest(det(img))
        c = crop_face(img, d, 96)
        out.append((c.image, c.to_crop(parser.landmarks(img, d))))
    return out


@pytest.mark.parametrize("family", FAMILIES)
def test_mask_is_exact_and_output_deterministic(crops, family):
    (img, lm), (donor, donor_lm) = crops
    forgery = get("forgeries", family)()
    before = img.copy()
    fake, mask = forgery(img, lm, np.random.default_rng(7), donor=donor, donor_landmarks=donor_lm)
    assert (img == before).all()                                   # input untouched
    assert fake.shape == img.shape and fake.dtype == np.uint8
    assert mask.shape == img.shape[:2] and mask.dtype == np.uint8 and set(np.unique(mask)) <= {0, 255}
    outside = mask == 0
    assert (fake[outside] == img[outside]).all()                   # exact: nothing changes outside
    inside = ~outside
    assert inside.any() and np.abs(fake[inside].astype(int) - img[inside]).mean() > 1.0
    again, mask2 = forgery(img, lm, np.random.default_rng(7), donor=donor, donor_landmarks=donor_lm)
    assert (again == fake).all() and (mask2 == mask).all()
    other, _ = forgery(img, lm, np.random.default_rng(8), donor=donor, donor_landmarks=donor_lm)
    assert not (other == fake).all()


def test_region_masks_stay_local_and_face_swap_needs_donor(crops):
    (img, lm), _ = crops
    _, mask = get("forgeries", "region")(regions=("mouth",))(img, lm, np.random.default_rng(0))
    ys, _xs = np.nonzero(mask)
    assert mask.mean() / 255 < 0.15 and ys.min() > lm[33, 1]      # mouth only: below the nose tip
    _, mask = get("forgeries", "region")(regions=("eyes",))(img, lm, np.random.default_rng(0))
    ys, _xs = np.nonzero(mask)
    assert ys.max() < lm[33, 1]
    assert get("forgeries", "face_swap").needs_donor
    with pytest.raises(ValueError, match="donor"):
        get("forgeries", "face_swap")()(img, lm, np.random.default_rng(0))


def test_attacks_cover_the_whole_frame(crops):
    (img, lm), _ = crops
    for family in ("print_attack", "replay_attack"):
        _, mask = get("forgeries", family)()(img, lm, np.random.default_rng(0))
        assert (mask == 255).all()


def test_alpha_face_swap_keeps_its_seam_and_its_mask_exact(crops):
    """clone=alpha (demo@2's test family): the donor's face feathered in without Poisson colour
    matching; still exact outside its mask, and not the seamlessClone result."""
    (img, lm), (donor, donor_lm) = crops
    swap = get("forgeries", "face_swap")
    fake, mask = swap(clone="alpha")(img, lm, np.random.default_rng(3), donor=donor, donor_landmarks=donor_lm)
    assert (fake[mask == 0] == img[mask == 0]).all() and (mask > 0).any()
    poisson, _ = swap()(img, lm, np.random.default_rng(3), donor=donor, donor_landmarks=donor_lm)
    assert np.abs(fake.astype(int) - poisson).mean() > 0.5
    with pytest.raises(ValueError, match="clone must be one of normal, mixed, alpha"):
        swap(clone="poisson")
