"""Progress of long work (preparing, pretraining, fine-tuning, scoring) with an ETA, on stderr.

One helper for every loop, so that all of them behave alike:

- ``bar``: a tqdm bar, when stderr is a terminal;
- ``lines``: when stderr is piped or logged, a plain line every ``interval_s`` seconds
  (``fine-tuning seed 0: 120/400 iter (30%), 2.1 iter/s, ETA 2m13s, epoch 3/10``) and one at the end;
- ``off``: nothing (``--quiet``).

The mode is ``auto`` (bar or lines by whether stderr is a terminal) unless ``--quiet`` set it off
(:func:`set_mode`) or ``$FSFM_BENCH_PROGRESS`` names one (``bar``, ``lines``, ``off``; ``$FSFM_BENCH_PROGRESS_INTERVAL`` sets the seconds between lines). Output goes to
stderr so that what a command prints on stdout (scores, JSON) stays clean. This module imports
nothing heavy: the CLI uses it before torch is loaded.
"""
from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

ENV = "FSFM_BENCH_PROGRESS"
INTERVAL_ENV = "FSFM_BENCH_PROGRESS_INTERVAL"
MODES = ("auto", "bar", "lines", "off")
#: seconds between two plain progress lines (``$FSFM_BENCH_PROGRESS_INTERVAL`` overrides it)
DEFAULT_INTERVAL_S = 30.0
#: a task shorter than this that printed no line ends silently too (no "1/1 batch done in 0s")
FINAL_LINE_AFTER_S = 2.0

_mode: str | None = None


def set_mode(mode: str | None) -> None:
    """Set the process-wide mode (``None``: back to ``$FSFM_BENCH_PROGRESS`` or auto)."""
    global _mode
    if mode is not None and mode not in MODES:
        raise ValueError(f"progress mode {mode!r}: use one of {', '.join(MODES)}")
    _mode = mode


def current_mode(stream: TextIO | None = None) -> str:
    """``bar``, ``lines`` or ``off``: the set mode, else the environment's, with auto resolved."""
    mode = _mode or os.environ.get(ENV, "").strip().lower() or "auto"
    if mode not in MODES:
        mode = "auto"
    if mode == "auto":
        stream = stream or sys.stderr
        try:
            return "bar" if stream.isatty() else "lines"
        except (AttributeError, ValueError):
            return "lines"
    return mode


def _interval(given: float | None) -> float:
    if given is not None:
        return float(given)
    try:
        return float(os.environ.get(INTERVAL_ENV) or DEFAULT_INTERVAL_S)
    except ValueError:
        return DEFAULT_INTERVAL_S


def format_duration(seconds: float) -> str:
    """``45s``, ``2m13s``, ``1h05m``: short enough for a progress line."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class Progress:
    """Counts ``total`` units of work from ``initial`` (a resumed run starts part-way).

    ``update(n, note=...)``: ``n`` more units done, ``note`` (e.g. ``"epoch 3/10"``) shown beside.
    The ETA counts only the units done in this process, so a resumed run's rate is its own.
    """

    def __init__(self, total: int, desc: str, unit: str = "it", *, initial: int = 0, mode: str | None = None,
                 interval_s: float | None = None, stream: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.total, self.desc, self.unit = int(total), desc, unit
        self.done = self.initial = int(initial)
        self.stream = stream or sys.stderr
        self.mode = current_mode(self.stream) if mode in (None, "auto") else mode
        self.interval_s, self.clock = _interval(interval_s), clock
        self.started = self.last_line = clock()
        self.note = ""
        self._bar: Any = None
        if self.mode == "bar" and self.total > 0:
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, initial=self.initial, desc=desc, unit=unit, file=self.stream,
                             dynamic_ncols=True, smoothing=0.1, leave=False)

    def update(self, n: int = 1, note: str | None = None) -> None:
        self.done += int(n)
        if note is not None:
            self.note = note
        if self._bar is not None:
            if note is not None:
                self._bar.set_postfix_str(note, refresh=False)
            self._bar.update(int(n))
        elif self.mode == "lines" and self.clock() - self.last_line >= self.interval_s:
            self._line()

    def line(self) -> str:
        """The plain progress line for the current state."""
        elapsed = self.clock() - self.started
        ran = self.done - self.initial
        text = f"{self.desc}: {self.done}/{self.total} {self.unit}"
        if self.total > 0:
            text += f" ({100.0 * self.done / self.total:.0f}%)"
        if ran > 0 and elapsed > 0:
            rate = ran / elapsed
            text += f", {rate:.3g} {self.unit}/s"
            if self.total > self.done:
                text += f", ETA {format_duration((self.total - self.done) / rate)}"
        return text + (f", {self.note}" if self.note else "")

    def _line(self) -> None:
        self.last_line = self.clock()
        print(self.line(), file=self.stream, flush=True)

    def close(self) -> None:
        """Finish: close the bar, or print a final line (``... done in 3m02s``) unless the work was
        too short to have shown any."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.mode == "lines" and self.done > self.initial and \
                (self.last_line > self.started or self.clock() - self.started >= FINAL_LINE_AFTER_S):
            self.last_line = self.clock()
            print(f"{self.desc}: {self.done}/{self.total} {self.unit} done in "
                  f"{format_duration(self.clock() - self.started)}", file=self.stream, flush=True)
        self.mode = "off"

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
