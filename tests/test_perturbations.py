"""The DeeperForensics-1.0 perturbation families: identity at level 0, severity that grows with the
level, outputs in range, determinism per sample id and seed, batch = one image at a time, and the
``perturb=`` spelling (unknown family or level: one line with the nearest names)."""
from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from fsfm_bench.errors import UsageError
from fsfm_bench.perturb import LEVELS, conditions, families
from fsfm_bench.perturb.rng import as_key_tensor, mix32, sample_keys, uniform

DEMO = Path(__file__).resolve().parents[1] / "plugins" / "datasets" / "demo_data" / "images"
IMAGE_FAMILIES = ("CS", "CC", "BW", "GNC", "GB", "JPEG")


@pytest.fixture(scope="module")
def fams():
    return families()


@pytest.fixture(scope="module")
def faces() -> torch.Tensor:
    """The four bundled demo photos at 96 px: uint8 [4, 3, 96, 96] (real texture and colour)."""
    imgs = [cv2.resize(cv2.imread(str(p))[..., ::-1], (96, 96), interpolation=cv2.INTER_AREA)
            for p in sorted(DEMO.iterdir())]
    return torch.from_numpy(np.ascontiguousarray(np.stack(imgs).transpose(0, 3, 1, 2)))


def _keys(n: int, seed: int = 0) -> torch.Tensor:
    return as_key_tensor(sample_keys([f"demo/img{i}.png" for i in range(n)], seed), "cpu")


def _apply(fam, x: torch.Tensor, level: int, seed: int = 0) -> torch.Tensor:
    if fam.kind == "video":                # the batch as one 4-frame video
        out = fam.apply_video(x.permute(0, 2, 3, 1).numpy(), level)
        return torch.from_numpy(np.ascontiguousarray(out)).permute(0, 3, 1, 2)
    return fam.apply(x, level, _keys(len(x), seed))


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float(((a.float() - b.float()) ** 2).mean())
    return math.inf if mse == 0 else 10 * math.log10(255.0 ** 2 / mse)


def test_the_seven_families_are_registered_in_deeperforensics_order(fams, capsys):
    from fsfm_bench.cli import main

    assert list(fams) == ["CS", "CC", "BW", "GNC", "GB", "JPEG", "VC"]
    assert all(len(f.params) == LEVELS for f in fams.values())
    assert main(["ls", "perturbations"]) == 0
    listed = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert sorted(listed) == sorted(fams)


@pytest.mark.parametrize("name", ["CS", "CC", "BW", "GNC", "GB", "JPEG", "VC"])
def test_level_zero_is_the_identity(fams, faces, name):
    assert torch.equal(_apply(fams[name], faces, 0), faces)


@pytest.mark.parametrize("name", ["CS", "CC", "BW", "GNC", "GB", "JPEG", "VC"])
def test_severity_grows_with_the_level(fams, faces, name):
    psnr = [_psnr(_apply(fams[name], faces, level), faces) for level in range(LEVELS + 1)]
    assert psnr[0] == math.inf
    assert all(a > b for a, b in zip(psnr, psnr[1:], strict=False)), psnr   # pairwise: one shorter
    assert psnr[-1] < 30, f"{name} level 5 barely changes the image: {psnr}"


@pytest.mark.parametrize("name", IMAGE_FAMILIES)
def test_outputs_stay_in_range(fams, faces, name):
    fam = fams[name]
    x = torch.cat([faces, torch.zeros_like(faces[:1]), torch.full_like(faces[:1], 255)]).float() / 255
    out = fam.transform(x, fam.param(LEVELS), _keys(len(x)))
    assert out.shape == x.shape and out.dtype == torch.float32
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


@pytest.mark.parametrize("name", IMAGE_FAMILIES)
def test_same_seed_same_image_and_batch_equals_one_at_a_time(fams, faces, name):
    fam = fams[name]
    keys = _keys(len(faces))
    batch = fam.apply(faces, 3, keys)
    assert torch.equal(batch, fam.apply(faces, 3, keys))
    for i in range(len(faces)):
        assert torch.equal(fam.apply(faces[i:i + 1], 3, keys[i:i + 1])[0], batch[i]), f"{name} image {i}"


@pytest.mark.parametrize("name", ["BW", "GNC"])
def test_random_families_depend_on_the_seed_and_the_sample_id(fams, faces, name):
    fam = fams[name]
    same = faces[:1].repeat(2, 1, 1, 1)
    two_ids = fam.apply(same, 2, _keys(2))
    assert not torch.equal(two_ids[0], two_ids[1])                 # one image, two sample ids
    assert not torch.equal(fam.apply(same, 2, _keys(2, seed=1)), two_ids)


def test_block_wise_draws_deeperforensics_block_count_and_grey(fams):
    fam = fams["BW"]
    white = torch.full((1, 3, 224, 224), 255, dtype=torch.uint8)
    out = fam.apply(white, 1, _keys(1))
    grey = (out[0] == 128).all(0)
    assert int((out[0] != 255).any(0).sum()) == int(grey.sum())   # every changed pixel is grey 128
    # 16 blocks of 8 x 8 (overlaps can only lower the area)
    assert 0.5 * 16 * 64 <= int(grey.sum()) <= 16 * 64
    assert fam.count(1080, 1920, 16) == 64 and fam.count(224, 224, 16) == 16


def test_counter_hash_matches_a_plain_integer_reference():
    def ref(x: int) -> int:                    # the same mixer on Python integers (exact 32-bit arithmetic)
        x ^= x >> 16
        x = (x * 0x7FEB352D) & 0xFFFFFFFF
        x ^= x >> 15
        x = (x * 0x846CA68B) & 0xFFFFFFFF
        return x ^ (x >> 16)

    values = [0, 1, 12345, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xDEADBEEF]
    assert mix32(torch.tensor(values, dtype=torch.int64)).tolist() == [ref(v) for v in values]
    u = uniform(torch.tensor([[3, 4]], dtype=torch.int64), 20000)
    assert 0.0 < float(u.min()) and float(u.max()) < 1.0 and abs(float(u.mean()) - 0.5) < 0.01


@pytest.mark.parametrize("value, expected", [
    ("all", 35), ("GB", 5), ("gb:3", 1), ("GB:1-3,JPEG", 8), ("all:5", 7), (["GB:3", "JPEG:3"], 2), (None, 0),
    ("none", 0)])
def test_perturb_spellings(value, expected, fams):
    got = conditions(value, fams)
    assert len(got) == expected
    if value == "gb:3":
        assert got[0].perturbation == "GB" and got[0].level == 3


@pytest.mark.parametrize("value, words", [
    ("GBB", ["unknown perturbation 'GBB'", "Did you mean: GB"]),
    ("jpg:2", ["unknown perturbation 'jpg'", "JPEG"]),
    ("GB:6", ["level 6 is outside 1-5"]), ("GB:0", ["level 0 is outside 1-5"]),
    ("GB:x", ["is not a level"]), ("GB:4-2", ["empty level range"])])
def test_bad_perturb_is_one_line_with_the_nearest_names(value, words, fams):
    with pytest.raises(UsageError) as info:
        conditions(value, fams)
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message, message


def test_bad_perturb_stops_run_before_anything_trains(tmp_path, capsys):
    from fsfm_bench.cli import main

    code = main(["run", "protocol=demo", "backbone=fsfm", "perturb=GNC:9", f"work_dir={tmp_path / 'runs'}",
                 f"data.cache_dir={tmp_path / 'cache'}"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "level 9 is outside 1-5" in err
    assert not (tmp_path / "runs").exists() and not (tmp_path / "cache").exists()
