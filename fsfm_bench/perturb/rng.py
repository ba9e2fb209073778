"""Counter-based random numbers for perturbations: the same sample gets the same noise anywhere.

A per-sample generator (``torch.Generator`` per image) would make a batch equal the images one at
a time, but CPU and CUDA generators draw different streams, so a score cached on one machine
would not describe the images another machine sees. Here every value is a hash of (sample key,
position): integer mixing (Chris Wellons' "lowbias32" constants) in int64 tensors holding 32-bit
values, so the same sample id and seed give bit-identical uniforms on every device and in any
batch, and the whole batch is a handful of vectorised kernels.
"""
from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

import numpy as np
import torch

MASK32 = 0xFFFFFFFF


def sample_keys(sample_ids: Sequence[str], seed: int) -> np.ndarray:
    """int64 [N, 2] keys (two 32-bit words each) from sha256(seed, sample id)."""
    out = np.empty((len(sample_ids), 2), dtype=np.int64)
    for i, sid in enumerate(sample_ids):
        digest = hashlib.sha256(f"{int(seed)}\x00{sid}".encode()).digest()
        out[i, 0] = int.from_bytes(digest[:4], "little")
        out[i, 1] = int.from_bytes(digest[4:8], "little")
    return out


def _mul32(x: torch.Tensor, m: int) -> torch.Tensor:
    """(x * m) mod 2**32 for 32-bit values in int64, without overflowing the signed 64-bit product."""
    lo, hi = x & 0xFFFF, x >> 16
    return (lo * m + (((hi * m) & 0xFFFF) << 16)) & MASK32


def mix32(x: torch.Tensor) -> torch.Tensor:
    """A bijective 32-bit integer hash with good avalanche."""
    x = x ^ (x >> 16)
    x = _mul32(x, 0x7FEB352D)
    x = x ^ (x >> 15)
    x = _mul32(x, 0x846CA68B)
    return x ^ (x >> 16)


def hash_bits(keys: torch.Tensor, n: int, offset: int = 0) -> torch.Tensor:
    """int64 [B, n] 32-bit hashes of (key, counter) for counters offset .. offset + n - 1."""
    counter = torch.arange(offset, offset + n, device=keys.device, dtype=torch.int64)
    return mix32(mix32(counter[None, :] ^ keys[:, 1:2]) ^ keys[:, 0:1])


def uniform(keys: torch.Tensor, n: int, offset: int = 0) -> torch.Tensor:
    """float32 [B, n] in the open interval (0, 1), 24 bits each."""
    bits = hash_bits(keys, n, offset) >> 8
    return (bits.to(torch.float32) + 0.5) * (1.0 / (1 << 24))


def normal(keys: torch.Tensor, n: int, offset: int = 0) -> torch.Tensor:
    """float32 [B, n] standard normals (Box-Muller on two independent uniform streams)."""
    u1 = uniform(keys, n, offset)
    u2 = uniform(keys, n, offset + n)
    return torch.sqrt(-2.0 * torch.log(u1)) * torch.cos((2.0 * math.pi) * u2)


#: size of the Gaussian bank (2**22 values): a walk visits distinct entries for images up to ~1180 px
BANK_BITS = 22
_BANK_KEY = (0x5EED0F5A, 0x0B0A7C11)
_banks: dict[str, torch.Tensor] = {}


def normal_bank(device: torch.device | str) -> torch.Tensor:
    """The fixed bank of 2**BANK_BITS standard normals, computed once on the CPU (bit-identical on
    every machine) and kept on ``device``."""
    name = str(torch.device(device))
    if name not in _banks:
        cpu = _banks.get("cpu")
        if cpu is None:
            cpu = _banks["cpu"] = normal(torch.tensor([_BANK_KEY], dtype=torch.int64), 1 << BANK_BITS)[0]
        _banks[name] = cpu.to(device)
    return _banks[name]


def walk_normal(keys: torch.Tensor, n: int) -> torch.Tensor:
    """float32 [B, n] standard normals: each sample walks the bank from a key-given start with a
    key-given odd stride, so its n values are distinct bank entries (n <= 2**BANK_BITS) and the
    cost is one gather instead of hashing every value (white noise on a full batch is otherwise
    the costliest perturbation on a GPU; benchmarks/perturb.py)."""
    bank = normal_bank(keys.device)
    mask = bank.numel() - 1
    start = keys[:, 0:1] & mask
    stride = (keys[:, 1:2] | 1) & mask
    steps = torch.arange(n, device=keys.device, dtype=torch.int64)[None, :]
    return bank[(start + steps * stride) & mask]


def as_key_tensor(keys: np.ndarray | torch.Tensor, device: torch.device | str) -> torch.Tensor:
    return torch.as_tensor(np.asarray(keys, dtype=np.int64) if not torch.is_tensor(keys) else keys,
                           dtype=torch.int64, device=device)
