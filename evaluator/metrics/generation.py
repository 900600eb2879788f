"""Image generation metrics for cartoonization: FID and KID of the outputs.

The features come from :mod:`evaluator.metrics.inception`, the math from
:mod:`evaluator.metrics.frechet`. Both metrics take their 95% interval from
the grouped jackknife (:mod:`evaluator.metrics.intervals`): a bootstrap
resample repeats feature rows, which biases both statistics upwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import Field

from datasets.components import Params
from evaluator.metrics.base import register_evidence, register_metric
from evaluator.metrics.frechet import fid_from_features, kid


@register_evidence("generation")
@dataclass(frozen=True)
class GenerationEvidence:
    """Features of the outputs, of their input photos (same rows) and of the reference cartoons."""

    output_features: np.ndarray
    photo_features: np.ndarray
    reference_features: np.ndarray
    extractor_name: str
    weights_sha256: str
    standard: bool

    def __len__(self) -> int:
        return len(self.output_features)

    def take(self, indices: np.ndarray) -> GenerationEvidence:
        return GenerationEvidence(self.output_features[indices], self.photo_features[indices],
                                  self.reference_features, self.extractor_name,
                                  self.weights_sha256, self.standard)

    def against(self, reference: str) -> np.ndarray:
        return self.reference_features if reference == "cartoon" else self.photo_features

    def details(self) -> dict[str, Any]:
        return {"extractor": self.extractor_name, "weights_sha256": self.weights_sha256,
                "standard": self.standard, "outputs": len(self.output_features),
                "reference_images": len(self.reference_features)}


class ReferenceParams(Params):
    reference: Literal["cartoon", "photo"] = Field(
        description="compare outputs with the reference cartoons or with the input photos")


class KidParams(ReferenceParams):
    subsets: int = Field(default=100, ge=1)
    subset_size: int = Field(default=1000, ge=2)


@register_metric("fid", tasks=("translation",), evidence="generation", higher_is_better=False,
                 params=ReferenceParams, interval="jackknife")
def fid(evidence: GenerationEvidence, params: ReferenceParams) -> float:
    """FID of the outputs against the reference cartoons or the input photos."""
    return fid_from_features(evidence.output_features, evidence.against(params.reference))


@register_metric("kid", tasks=("translation",), evidence="generation", higher_is_better=False,
                 params=KidParams, interval="jackknife")
def kid_metric(evidence: GenerationEvidence, params: KidParams) -> float:
    """KID of the outputs against the reference cartoons or the input photos."""
    return kid(evidence.output_features, evidence.against(params.reference),
               params.subsets, params.subset_size)
