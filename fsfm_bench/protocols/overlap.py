"""A protocol run must not train (or validate) on the images it tests on.

``protocol.train=[{dataset: demo, split: test}]`` used to train on the test images and publish the
row under the protocol's name. :func:`guard_overlap` refuses such a run before anything trains,
unless the run passes ``allow_train_test_overlap=true``; then its results are published under a
protocol id of their own (``<id>.train-test-overlap``), never as the protocol's numbers.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from ..errors import UsageError
from .spec import Protocol

OPTION = "allow_train_test_overlap"
SUFFIX = ".train-test-overlap"


def shared_images(train: list[dict[str, Any]], val: list[dict[str, Any]],
                  targets: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
    """For each target, how many of its images the training or validation rows also hold."""
    seen = {r["path"] for r in train} | {r["path"] for r in val}
    return {name: n for name, rows in targets.items() if (n := len({r["path"] for r in rows} & seen))}


def guard_overlap(protocol: Protocol, train: list[dict[str, Any]], val: list[dict[str, Any]],
                  targets: dict[str, list[dict[str, Any]]], cfg: dict[str, Any]) -> Protocol:
    """``protocol`` when no target image is trained or validated on; with overlap, a UsageError, or
    (``allow_train_test_overlap=true``) the protocol under its own id (see the module docstring)."""
    shared = shared_images(train, val, targets)
    if not shared:
        return protocol
    what = ", ".join(f"{n} images of target {name}" for name, n in shared.items())
    if not cfg.get(OPTION):
        raise UsageError(f"protocol {protocol.ref} would train or validate on {what}: its results would not be "
                         f"the protocol's. Fix protocol.train/protocol.validation, or pass {OPTION}=true to run it "
                         f"anyway (published as {protocol.id}{SUFFIX}@{protocol.version}, not {protocol.id}@"
                         f"{protocol.version})")
    return dataclasses.replace(protocol, id=protocol.id + SUFFIX)
