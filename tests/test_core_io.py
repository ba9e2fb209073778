"""Atomic writes: all or nothing, normal permissions, no temp files left behind."""
from __future__ import annotations

import hashlib
import os
import stat

import pytest

from fsfm_bench.io import atomic_open, atomic_write_json, atomic_write_text, sha256_file


def test_failed_write_keeps_the_previous_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "table.md"
    atomic_write_text(target, "old\n")
    with pytest.raises(RuntimeError):
        with atomic_open(target, "w") as handle:
            handle.write("half a new tab")
            raise RuntimeError("killed mid-write")
    assert target.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.md"]


def test_written_files_get_umask_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        import importlib

        import fsfm_bench.io as io_module

        importlib.reload(io_module)
        io_module.atomic_write_json(tmp_path / "r.json", {"a": 1})
        assert stat.S_IMODE((tmp_path / "r.json").stat().st_mode) == 0o644
    finally:
        os.umask(old)


def test_json_roundtrip_and_hash(tmp_path):
    atomic_write_json(tmp_path / "x.json", {"b": [1, 2]})
    assert (tmp_path / "x.json").read_text() == '{\n  "b": [\n    1,\n    2\n  ]\n}\n'
    expected = hashlib.sha256(b'{\n  "b": [\n    1,\n    2\n  ]\n}\n').hexdigest()
    assert sha256_file(tmp_path / "x.json") == expected
