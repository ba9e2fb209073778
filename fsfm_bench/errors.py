"""The two kinds of error the command line reports as one line (no traceback unless --debug)."""
from __future__ import annotations

import difflib
from collections.abc import Iterable


class FsfmBenchError(Exception):
    """A runtime failure the user can act on; the CLI prints it and exits with status 1."""

    exit_code = 1


class UsageError(FsfmBenchError):
    """A malformed command line, unknown key or unknown name; the CLI exits with status 2."""

    exit_code = 2


def did_you_mean(name: str, candidates: Iterable[str], n: int = 3) -> str:
    """Return ' Did you mean: a, b?' for the nearest candidates, or a list of valid ones."""
    candidates = sorted(set(candidates))
    close = difflib.get_close_matches(name, candidates, n=n, cutoff=0.5)
    if close:
        return f" Did you mean: {', '.join(close)}?"
    if not candidates:
        return ""
    if len(candidates) > 12:
        return f" Valid: {', '.join(candidates[:12])}, ... ({len(candidates)} in all)."
    return f" Valid: {', '.join(candidates)}."
