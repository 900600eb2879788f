"""The SVM stage of Lagunas & Garces: RBF SVC (C=1, γ=1e-4), one-vs-rest, on CNN features.

The paper's γ suits 4096-d VGG19 activations. Our features are 128-d, so they
are standardised (train mean and standard deviation) and rescaled by
``1/sqrt(D·γ)``: the paper's γ=1e-4 then acts like scikit-learn's
``gamma='scale'`` on the standardised features (mean γ·‖x−y‖² ≈ 2).
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
from sklearn.multiclass import OneVsRestClassifier
from sklearn.svm import SVC

C = 1.0
GAMMA = 1e-4


def feature_scaling(features: np.ndarray) -> dict[str, np.ndarray]:
    mean = features.mean(axis=0)
    std = features.std(axis=0) + 1e-6
    return {"mean": mean.astype(np.float64), "scale": (std * np.sqrt(features.shape[1] * GAMMA)).astype(np.float64)}


def scaled(features: np.ndarray, scaling: dict[str, np.ndarray]) -> np.ndarray:
    return (features - scaling["mean"]) / scaling["scale"]


def fit_svm(features: np.ndarray, targets: np.ndarray) -> dict[str, Any]:
    """Fit the scaler and the one-vs-rest SVMs; returns what the checkpoint stores."""
    scaling = feature_scaling(features)
    classifier = OneVsRestClassifier(SVC(C=C, kernel="rbf", gamma=GAMMA))
    classifier.fit(scaled(features, scaling), targets)
    return {"scaling": scaling, "svm": pickle.dumps(classifier)}


def svm_scores(features: np.ndarray, stored: dict[str, Any]) -> np.ndarray:
    """One-vs-rest decision values ``[N, C]``, columns in training class order."""
    classifier = pickle.loads(stored["svm"])
    return classifier.decision_function(scaled(features, stored["scaling"])).astype(np.float32)
