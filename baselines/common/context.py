"""What a baseline's ``train`` function gets (``baselines.checkpoints`` makes it).

Only the standard library here: the method modules import it, and they also
run inside the predict containers, which hold the baselines and nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datasets.build import BuiltBenchmark


@dataclass(frozen=True)
class TrainContext:
    """The built benchmark to train on and the checkpoint file to write.

    ``require(name)`` returns another baseline's checkpoint on the same
    protocol, training it first when missing (the optimized illustration
    network starts from the plain one, NPN reuses the IUS and FIN networks, the margin face heads
    the softmax warm-up).
    """

    built: BuiltBenchmark
    checkpoint: Path
    require: Callable[[str], Path]

    @property
    def profile(self) -> str:
        return self.built.spec.profile
