"""Bad parsing maps: each mistake gets one clear FsfmBenchError saying what to do."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import fsfm_bench
from fsfm_bench.errors import FsfmBenchError, UsageError
from fsfm_bench_plugins.masking.synthetic import face_maps


@pytest.fixture(scope="module", params=["random", "frp", "crfr_r", "crfr_p", "fasking_i"])
def strategy(request):
    return fsfm_bench.build_masking(request.param)


@pytest.mark.parametrize("maps, words", [
    (np.zeros((2, 224, 224), dtype=np.int8), "must be a torch.Tensor"),
    (torch.zeros(224, 224, dtype=torch.int8), r"3 dimensions .* add the batch axis"),
    (torch.zeros(2, 1, 224, 224, dtype=torch.int8), r"3 dimensions .* squeeze it"),
    (torch.zeros(2, 224, 224), "integer labels .*torch.float32"),
    (torch.zeros(2, 224, 224, dtype=torch.bool), "integer labels .*torch.bool"),
    (torch.zeros(2, 224, 200, dtype=torch.int8), r"224x200 are not a whole number of 16x16 patches"),
    (torch.full((2, 224, 224), 11, dtype=torch.int8), r"label 11, outside the 11 LaPa labels 0..10"),
    (torch.full((2, 224, 224), -1, dtype=torch.int64), r"label -1, outside"),
    (torch.full((2, 224, 224), 18, dtype=torch.uint8), r"label 18, outside"),
])
def test_bad_maps_raise_one_clear_error(strategy, maps, words):
    with pytest.raises(FsfmBenchError, match=words) as info:
        strategy(maps)
    assert not isinstance(info.value, UsageError)        # bad data is a runtime error (exit 1)


def test_maps_must_match_the_declared_input_size():
    strategy = fsfm_bench.build_masking("crfr_p", input_size=224)
    with pytest.raises(FsfmBenchError, match="maps are 112x112 but the model input is 224x224"):
        strategy(face_maps(2, size=112))
    mask, _ = strategy(face_maps(2, size=224))
    assert mask.shape == (2, 196)
    with pytest.raises(UsageError, match="input_size"):
        fsfm_bench.build_masking("crfr_p", input_size=(1, 2, 3))


@pytest.mark.parametrize("dtype", [torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64])
def test_every_integer_dtype_gives_the_same_masks(dtype):
    strategy = fsfm_bench.build_masking("crfr_p")
    maps = face_maps(4, generator=torch.Generator().manual_seed(0))
    ref = strategy(maps, generator=torch.Generator().manual_seed(1))
    got = strategy(maps.to(dtype), generator=torch.Generator().manual_seed(1))
    assert torch.equal(ref[0], got[0]) and torch.equal(ref[1], got[1])
    # non-contiguous maps (a transposed batch) work too
    got = strategy(maps.transpose(1, 2).contiguous().transpose(1, 2).to(dtype),
                   generator=torch.Generator().manual_seed(1))
    assert torch.equal(ref[0], got[0])
