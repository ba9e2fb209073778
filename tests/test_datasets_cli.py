"""`fsfm-bench data verify|index|cards` through the real command line entry point (in process)."""
from __future__ import annotations

import json

from dataset_layouts import build_casia, build_celebdf

from fsfm_bench.cli import main


def test_verify_ok_and_failing(tmp_path, capsys):
    build_casia(tmp_path)
    assert main(["data", "verify", "dataset=casia_fasd", f"root={tmp_path}"]) == 0
    out = capsys.readouterr().out
    assert "OK" in out and "train  60 real, 180 fake   (card: 60 real, 180 fake)" in out
    (tmp_path / "train_release/1/HR_1.avi").unlink()
    report = tmp_path.parent / "report.json"
    assert main(["data", "verify", "dataset=casia_fasd", f"root={tmp_path}", f"out={report}"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "train_release/1/HR_1.avi" in out
    saved = json.loads(report.read_text())
    assert saved["missing"] == ["train_release/1/HR_1.avi"] and saved["ok"] is False


def test_verify_wrong_root_is_one_clear_failure(tmp_path, capsys):
    assert main(["data", "verify", "dataset=celebdf_v2", f"root={tmp_path / 'nowhere'}"]) == 1
    out = capsys.readouterr().out
    assert "does not exist" in out and "Celeb-synthesis" in out and "github.com/yuezunli" in out


def test_index_writes_jsonl_with_options(tmp_path, capsys):
    build_celebdf(tmp_path / "cdf", n_celeb=3, n_youtube=2, n_fake=4,
                  test={"Celeb-real": 1, "YouTube-real": 1, "Celeb-synthesis": 2})
    out = tmp_path / "items.jsonl"
    assert main(["data", "index", "dataset=celebdf_v2", f"root={tmp_path / 'cdf'}", f"out={out}",
                 "youtube_real=no_test"]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 8 and {r["source"] for r in rows} == {"celebdf_v2"}
    assert sum(r["split"] == "test" for r in rows) == 3
    assert "celebdf_v2: 8 items (train 3 real/2 fake, test 1 real/2 fake)" in capsys.readouterr().err


def test_usage_errors(tmp_path, capsys):
    assert main(["data", "verify", "dataset=celebdf", f"root={tmp_path}"]) == 2
    assert "celebdf_v2" in capsys.readouterr().err
    assert main(["data", "verify", "dataset=ffpp"]) == 2
    assert "root=PATH" in capsys.readouterr().err
    assert main(["data", "check", "dataset=ffpp"]) == 2
    assert main(["data", "index", "dataset=ffpp", f"root={tmp_path}", "colour=red"]) == 2
    assert "has no option 'colour'" in capsys.readouterr().err
    assert main(["data", "cards"]) == 0
    assert "FaceForensics++" in capsys.readouterr().out
