"""Every bundled baseline: which benchmark, which method from which paper, how to train and run it.

The site reads this list to make sure each leaderboard has its baselines:
``ensure_checkpoint`` trains what is missing on the built benchmark's
protocol, ``Baseline.command`` gives the predict entrypoint to run (it obeys
the container contract), and the outputs are scored like any submission.

``predict_command`` is a template without the interpreter: the placeholders
``{input}``, ``{output}`` and ``{checkpoint}`` stand for the /input and
/output folders and the checkpoint file; run it with the environment's
python (``Baseline.command`` fills both in).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datasets.registry import Registry

PACKAGE_ROOT = Path(__file__).resolve().parent

TOONNET_PAPER = ("ToonNet: A cartoon image dataset and a DNN-based semantic classification system", "https://doi.org/10.1145/3359997.3365705")
ILLUSTRATION_PAPER = ("Transfer Learning for Illustration Classification", "https://arxiv.org/abs/1806.02682")
ICARTOONFACE_PAPER = ("iCartoonFace: A Benchmark of Cartoon Person Recognition", "https://arxiv.org/abs/1907.13394")
WHITEBOX_PAPER = (
    "Learning to Cartoonize Using White-box Cartoon Representations",
    "https://openaccess.thecvf.com/content_CVPR_2020/html/Wang_Learning_to_Cartoonize_Using_White-Box_Cartoon_Representations_CVPR_2020_paper.html",
)


@dataclass(frozen=True)
class Baseline:
    name: str
    benchmark: str
    method: str
    paper_title: str
    paper_url: str
    package: str
    needs_training: bool
    output: str
    summary: str

    @property
    def folder(self) -> Path:
        return PACKAGE_ROOT / self.package

    def _method(self) -> Any:
        return importlib.import_module(f"baselines.{self.package}.method")

    @property
    def train_fn(self) -> Callable[[Any], None] | None:
        """``train(ctx: TrainContext) -> None`` (writes ``ctx.checkpoint``), or None when nothing is learned."""
        return self._method().train if self.needs_training else None

    @property
    def predict_fn(self) -> Callable[[Path, Path, Path | None], None]:
        return self._method().predict

    @property
    def predict_command(self) -> list[str]:
        command = [str(self.folder / "predict.py"), "{input}", "{output}"]
        return command + ["--checkpoint", "{checkpoint}"] if self.needs_training else command

    def runner_command(self, checkpoint: Path | str | None = None, python: str | None = None) -> list[str]:
        """The command with interpreter and checkpoint filled in, ``{input}``/``{output}`` left for a runner."""
        if self.needs_training and checkpoint is None:
            raise ValueError(f"baseline {self.name!r} needs a checkpoint; train it with: python -m baselines train --benchmark {self.benchmark}")
        return [python or sys.executable] + [part.replace("{checkpoint}", str(checkpoint)) for part in self.predict_command]

    def command(self, input_dir: Path | str, output_dir: Path | str, checkpoint: Path | str | None = None, python: str | None = None) -> list[str]:
        """The predict command line, ready to run."""
        return [part.replace("{input}", str(input_dir)).replace("{output}", str(output_dir)) for part in self.runner_command(checkpoint, python)]

    def checkpoint_path(self, protocol_hash: str, root: Path | None = None) -> Path | None:
        """Where this baseline's weights for a protocol live (None when it learns nothing)."""
        from baselines.checkpoints import checkpoint_path

        return checkpoint_path(self.benchmark, self.name, protocol_hash, root) if self.needs_training else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "benchmark": self.benchmark,
            "method": self.method,
            "paper_title": self.paper_title,
            "paper_url": self.paper_url,
            "needs_training": self.needs_training,
            "output": self.output,
            "summary": self.summary,
            "predict_command": self.predict_command,
            "dockerfile": str(self.folder / "Dockerfile"),
        }


BASELINES: Registry[Baseline] = Registry("baseline")


def _add(name: str, benchmark: str, method: str, paper: tuple[str, str], needs_training: bool, output: str, summary: str) -> None:
    package = name.replace("-", "_")
    BASELINES.add(name, Baseline(name, benchmark, method, paper[0], paper[1], package, needs_training, output, summary))


_add("toonnet-resnet", "toonnet", "ResNet (plain CNN)", TOONNET_PAPER, True, "scores",
     "A small ResNet trained from scratch on the train split.")
_add("toonnet-ius", "toonnet", "ResNet + IUS", TOONNET_PAPER, True, "scores",
     "Inputs unified stylization (mean shift, HSV background/outline masks, hue flood fill) before the same ResNet.")
_add("toonnet-fin", "toonnet", "ResNet + FIN", TOONNET_PAPER, True, "scores",
     "An RGB histogram joined at the pre-logits layer through a small conv and an extra fully connected layer.")
_add("toonnet-npn", "toonnet", "NPN-3", TOONNET_PAPER, True, "scores",
     "Three frozen ResNets' pre-logits mapped to one width, stacked, mixed by a 3x1 convolution and classified.")
_add("illustration-cnn-svm", "illustration", "CNN + SVM", ILLUSTRATION_PAPER, True, "scores",
     "Penultimate-layer CNN features classified by one-vs-rest RBF SVMs (C=1, gamma=1e-4 on rescaled features).")
_add("illustration-cnn-svm-optimized", "illustration", "Optimized CNN + SVM", ILLUSTRATION_PAPER, True, "scores",
     "The CNN's low layers re-initialised and trained at a 10x higher learning rate than the upper layers, then the SVM.")
_add("icartoonface-softmax", "icartoonface", "Softmax", ICARTOONFACE_PAPER, True, "embeddings",
     "Face embedding network trained with a softmax classifier over the train identities.")
_add("icartoonface-cosface", "icartoonface", "CosFace", ICARTOONFACE_PAPER, True, "embeddings",
     "The same embedding network trained with a CosFace head (s=20, m=0.2).")
_add("icartoonface-arcface", "icartoonface", "ArcFace", ICARTOONFACE_PAPER, True, "embeddings",
     "The same embedding network trained with an ArcFace head (s=20, m=0.3).")
_add("cartoon-identity", "cartoonization", "Identity (input photo)", WHITEBOX_PAPER, False, "images",
     "Returns each photo unchanged: the floor for FID with real.")
_add("cartoon-opencv-stylization", "cartoonization", "OpenCV stylization", WHITEBOX_PAPER, False, "images",
     "OpenCV's edge-preserving stylization filter.")
_add("cartoon-whitebox-classical", "cartoonization", "White-box (classical)", WHITEBOX_PAPER, False, "images",
     "Guided-filter surface, Felzenszwalb superpixel structure and Canny outlines, combined without a network.")


def get_baseline(name: str) -> Baseline:
    return BASELINES.get(name)


def all_baselines() -> list[Baseline]:
    return [BASELINES.get(name) for name in BASELINES.names()]


def baselines_for(benchmark: str) -> list[Baseline]:
    return [baseline for baseline in all_baselines() if baseline.benchmark == benchmark]


def ensure_checkpoint(baseline: Baseline, built: Any, root: Path | None = None, retrain: bool = False) -> Path | None:
    """The baseline's checkpoint for the built benchmark's protocol, trained first when missing.

    Returns None for baselines that learn nothing.
    """
    from baselines.checkpoints import TrainContext, checkpoint_root

    if not baseline.needs_training:
        return None
    if built.spec.slug != baseline.benchmark:
        raise ValueError(f"baseline {baseline.name!r} belongs to {baseline.benchmark!r}, not {built.spec.slug!r}")
    root = Path(root) if root is not None else checkpoint_root()
    path = baseline.checkpoint_path(built.protocol_hash, root)
    assert path is not None
    if retrain or not path.exists():
        baseline.train_fn(TrainContext(built, path, root))
    return path
