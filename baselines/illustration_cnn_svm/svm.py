"""The SVM stage of Lagunas & Garces: one-vs-rest SVMs on fc7 features, C and γ chosen by 3-fold CV.

§6.1: three-fold cross-validation on the curated set picked an RBF kernel,
C = 1, γ = 1e-4, one-vs-rest; §7.2: on the optimized network's features it
picked a sigmoid kernel, C = 10, γ = 1e-4. Here the same search runs with
scikit-learn's ``GridSearchCV`` (stratified 3 folds, top-1 accuracy) on the
training split only, over grids that contain the paper's values and one γ
either side (C_GRID × GAMMA_GRID: six cells, 18 fits, two at a time, to keep
the default profile's training time near the old one).

The paper's "one-vs-rest" is one binary SVM per class (§6.1), which is
``OneVsRestClassifier``; ``SVC(decision_function_shape='ovr')`` would train
one-vs-one machines and only reshape their votes.

γ scale: the paper's γ = 1e-4 suits raw 4096-d VGG19 activations. Our fc7 is
narrower and from another network, so features are standardised on train and
divided by ``sqrt(D·1e-4)``: then γ = 1e-4 gives γ‖x−y‖² ≈ 2 on average, like
scikit-learn's ``gamma='scale'``, and the grid's γ values are read on that scale.

The checkpoint keeps no pickled estimator: ``svm_arrays`` stores what the
decision needs (the scaler's mean and scale, the rescale factor, each
machine's support vectors, dual coefficients and intercept, the kernel's
parameters) and ``svm_scores`` computes the decision values from them, so
any numpy reads a checkpoint that any scikit-learn wrote.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.model_selection import GridSearchCV
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.svm import SVC

PAPER_GAMMA = 1e-4
C_GRID = (1.0, 10.0)
GAMMA_GRID = (1e-5, 1e-4, 1e-3)
FOLDS = 3
JOBS = 2


def rescale(features: np.ndarray, factor: float) -> np.ndarray:
    return features * factor


def svm_pipeline(dimensions: int, kernel: str) -> Pipeline:
    """Standardise, rescale so that the paper's γ fits ``dimensions``-d features, one-vs-rest SVC."""
    factor = 1.0 / np.sqrt(dimensions * PAPER_GAMMA)
    return Pipeline(
        [
            ("standardise", StandardScaler()),
            ("rescale", FunctionTransformer(rescale, kw_args={"factor": factor})),
            ("svm", OneVsRestClassifier(SVC(kernel=kernel))),
        ]
    )


def select_svm(
    features: np.ndarray, targets: np.ndarray, kernel: str, c_grid: Sequence[float] = C_GRID, gamma_grid: Sequence[float] = GAMMA_GRID
) -> GridSearchCV:
    """Grid search over C and γ by ``FOLDS``-fold CV on the given (training) features; refits the best on all of them."""
    search = GridSearchCV(
        svm_pipeline(features.shape[1], kernel),
        {"svm__estimator__C": list(c_grid), "svm__estimator__gamma": list(gamma_grid)},
        cv=FOLDS,
        scoring="accuracy",
        n_jobs=JOBS,
    )
    return search.fit(features, targets)


def fit_svm(features: np.ndarray, targets: np.ndarray, kernel: str = "rbf") -> dict[str, Any]:
    """Select and fit the SVM; returns what the checkpoint stores (the fitted pipeline and the chosen C, γ)."""
    search = select_svm(features, targets, kernel)
    chosen = {"kernel": kernel, "C": search.best_params_["svm__estimator__C"], "gamma": search.best_params_["svm__estimator__gamma"]}
    return {"svm": svm_arrays(search.best_estimator_), "svm_params": chosen}


def svm_arrays(pipeline: Pipeline) -> dict[str, Any]:
    """The fitted pipeline as numbers and arrays: scaler, rescale factor, kernel and one binary machine per class."""
    scaler, ovr = pipeline.named_steps["standardise"], pipeline.named_steps["svm"]
    if list(ovr.classes_) != list(range(len(ovr.classes_))):
        raise ValueError(f"SVM targets must be the class indices 0..C-1, got {list(ovr.classes_)}")
    first = ovr.estimators_[0]
    machines = [
        {"support_vectors": machine.support_vectors_, "dual_coef": machine.dual_coef_[0], "intercept": float(machine.intercept_[0])}
        for machine in ovr.estimators_
    ]
    return {
        "mean": scaler.mean_, "scale": scaler.scale_, "factor": float(pipeline.named_steps["rescale"].kw_args["factor"]),
        "kernel": first.kernel, "gamma": float(first._gamma), "coef0": float(first.coef0), "degree": int(first.degree),
        "machines": machines,
    }


def kernel_matrix(x: np.ndarray, support: np.ndarray, svm: dict[str, Any]) -> np.ndarray:
    """``K(x_i, sv_j)`` as scikit-learn's SVC computes it for the stored kernel."""
    if svm["kernel"] == "rbf":
        distances = (x**2).sum(1)[:, None] + (support**2).sum(1)[None, :] - 2.0 * x @ support.T
        return np.exp(-svm["gamma"] * np.maximum(distances, 0.0))
    products = x @ support.T
    if svm["kernel"] == "sigmoid":
        return np.tanh(svm["gamma"] * products + svm["coef0"])
    if svm["kernel"] == "poly":
        return (svm["gamma"] * products + svm["coef0"]) ** svm["degree"]
    if svm["kernel"] == "linear":
        return products
    raise ValueError(f"unknown SVM kernel {svm['kernel']!r} in the checkpoint")


def svm_scores(features: np.ndarray, stored: dict[str, Any]) -> np.ndarray:
    """One-vs-rest decision values ``[N, C]``, columns in training class order."""
    svm = stored["svm"]
    if not isinstance(svm, dict):
        raise ValueError("checkpoint holds a pickled SVM from an older version; retrain it: python -m baselines train --retrain")
    x = (np.asarray(features, np.float64) - svm["mean"]) / svm["scale"] * svm["factor"]
    columns = [kernel_matrix(x, np.asarray(m["support_vectors"], np.float64), svm) @ np.asarray(m["dual_coef"], np.float64) + m["intercept"]
               for m in svm["machines"]]
    return np.stack(columns, axis=1).astype(np.float32)
