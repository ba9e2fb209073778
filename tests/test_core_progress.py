"""Progress of long work: a bar in a terminal, plain lines with an ETA when piped, nothing when off;
the ProgressHook reports a real fine-tuning run's iterations."""
from __future__ import annotations

import io

import pytest
from run_testutil import make_prepared, synth_config

from fsfm_bench import progress
from fsfm_bench.progress import Progress, format_duration


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def _reset_mode(monkeypatch):
    monkeypatch.delenv(progress.ENV, raising=False)
    monkeypatch.delenv(progress.INTERVAL_ENV, raising=False)
    progress.set_mode(None)
    yield
    progress.set_mode(None)


def test_plain_lines_every_interval_with_rate_and_eta():
    out, clock = io.StringIO(), Clock()
    bar = Progress(100, "fine-tuning seed 0", "iter", initial=20, stream=out, interval_s=10, clock=clock)
    assert bar.mode == "lines"                            # a pipe, not a terminal
    for _ in range(10):                                   # 10 iterations in 5 s: no line yet
        clock.t += 0.5
        bar.update(1, note="epoch 2/5")
    assert out.getvalue() == ""
    for _ in range(10):                                   # 10 more: 10 s passed, one line
        clock.t += 0.5
        bar.update(1, note="epoch 2/5")
    assert out.getvalue() == "fine-tuning seed 0: 40/100 iter (40%), 2 iter/s, ETA 30s, epoch 2/5\n"
    bar.close()
    assert out.getvalue().splitlines()[-1] == "fine-tuning seed 0: 40/100 iter done in 10s"
    short = io.StringIO()
    with Progress(1, "scoring", "batch", stream=short, clock=clock) as quick:
        clock.t += 0.5
        quick.update(1)
    assert short.getvalue() == ""                         # half a second of work: no "done" line


def test_bar_in_a_terminal_and_nothing_when_off(monkeypatch):
    tty = Tty()
    with Progress(5, "scoring", "batch", stream=tty) as bar:
        assert bar.mode == "bar"
        bar.update(5)
    assert "\rscoring:   0%|" in tty.getvalue() and "0/5 [" in tty.getvalue()        # tqdm drew its bar
    progress.set_mode("off")                              # --quiet
    quiet = Tty()
    with Progress(5, "scoring", stream=quiet, interval_s=0) as bar:
        bar.update(5)
    assert quiet.getvalue() == ""
    progress.set_mode(None)
    monkeypatch.setenv(progress.ENV, "lines")             # a terminal, but lines asked for
    assert progress.current_mode(Tty()) == "lines"
    with pytest.raises(ValueError, match="progress mode 'loud'"):
        progress.set_mode("loud")


def test_durations_read_short():
    assert [format_duration(s) for s in (0.4, 59, 61, 3599, 3725)] == ["0s", "59s", "1m01s", "59m59s", "1h02m"]


def test_the_hook_reports_a_real_finetuning_run(tmp_path, capfd, monkeypatch):
    from fsfm_bench.protocols.run import run

    data = make_prepared(tmp_path / "data", splits=(("train", 3), ("val", 2), ("test", 2)), frames=2)
    cfg = synth_config(tmp_path, data, epochs=3, warmup_epochs=0)
    monkeypatch.setenv(progress.ENV, "lines")
    monkeypatch.setenv(progress.INTERVAL_ENV, "0")       # a line after every iteration
    run(cfg, log=lambda s: None, progress=True)
    err = capfd.readouterr().err.splitlines()
    steps = [line for line in err if line.startswith("fine-tuning seed 0: ") and "ETA" in line]
    # 12 training rows, batch 8, drop_last: 1 iteration per epoch, 3 epochs
    assert len(steps) == 2
    assert steps[0].startswith("fine-tuning seed 0: 1/3 iter (33%)") and steps[0].endswith("epoch 1/3")
    assert steps[1].startswith("fine-tuning seed 0: 2/3 iter (67%)") and steps[1].endswith("epoch 2/3")
    assert "fine-tuning seed 0: 3/3 iter done in" in "\n".join(err)
    assert any(line.startswith("scoring: ") for line in err)
    progress.set_mode("off")                              # what --quiet sets
    cfg = synth_config(tmp_path / "again", data, epochs=2, warmup_epochs=0)
    run(cfg, log=lambda s: None, progress=True)
    assert not [line for line in capfd.readouterr().err.splitlines()
                if line.startswith(("fine-tuning", "scoring"))]
