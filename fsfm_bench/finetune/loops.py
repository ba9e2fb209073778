"""mmengine's iteration-based training loop with a resume that continues the random stream exactly.

On resume, mmengine's ``IterBasedTrainLoop`` replays the data loader up to the resumed iteration
(so the sampler and any loader workers reach the same position). With in-process loading that
replay re-runs the training transforms, which draw from the process's generators: the augmentations,
drop path and mixup of every later step would differ from an uninterrupted run with the same seed.
This loop keeps the replay (loader workers need it to reach their own stream positions) and then
puts the process's generators back to the state the checkpoint restored (:mod:`.rng`).
"""
from __future__ import annotations

from typing import Any

from mmengine.runner import IterBasedTrainLoop

from ..registry import LOOPS
from . import rng


class _ReplayThenRestore:
    """Wraps the loop's data iterator: after ``replay`` batches, restore the captured generator states."""

    def __init__(self, inner: Any, replay: int, state: dict[str, Any]) -> None:
        self.inner, self.remaining, self.state = inner, int(replay), state

    def __iter__(self) -> _ReplayThenRestore:
        return self

    def __next__(self) -> Any:
        batch = next(self.inner)
        if self.remaining > 0:
            self.remaining -= 1
            if self.remaining == 0:
                rng.restore(self.state)
        return batch


@LOOPS.register_module()
class ExactResumeIterBasedTrainLoop(IterBasedTrainLoop):
    """``IterBasedTrainLoop`` whose resumed run draws the same random numbers as an uninterrupted one."""

    def run(self) -> Any:
        if self._iter > 0:
            # Captured after the checkpoint (and its RngStateHook state) was loaded, before the
            # before_train hooks: validation there is RNG-neutral (RngStateHook), so this is the
            # state an uninterrupted run has when it draws batch ``self._iter``.
            inner = self.dataloader_iterator
            self.dataloader_iterator = _ReplayThenRestore(inner, self._iter, rng.capture())
            try:
                return super().run()
            finally:
                self.dataloader_iterator = inner
        return super().run()
