"""Classification: one score per class for every test image; truth is the item's ``label``.

``scores.csv`` columns must be ``id`` then the class names in the order of
manifest.json's ``classes``; its rows may come in any order and are
reordered to the manifest order.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from datasets.build import BuiltBenchmark
from datasets.manifest import ManifestItem
from datasets.spec_models import BenchmarkSpec
from evaluator.metrics.classification import ClassificationEvidence
from evaluator.output_files import OutputError, check_finite, check_matrix, first_line, load_npy, parse_cell, preview
from evaluator.tasks.base import Evidences, ScoringOptions, StarterCode, TaskType, TaskWords, register_task

SCORES_NPY = "scores.npy"
SCORES_CSV = "scores.csv"


def expected_outputs(built: BuiltBenchmark, count: int) -> dict[str, Any]:
    classes = len(built.spec.classes)
    return {
        "files": [SCORES_NPY],
        "alternatives": [SCORES_CSV],
        "shape": [count, classes],
        "dtype": "float32",
        "description": (
            f"{SCORES_NPY}: float32 array [{count}, {classes}], one row per item in manifest.json order, "
            f"one column per class in 'classes' order (higher = more likely); or {SCORES_CSV} with "
            f"header 'id,<class names in 'classes' order>' and one row per item"
        ),
    }


def load_outputs(built: BuiltBenchmark, output_dir: Path, inputs: list[ManifestItem]) -> np.ndarray:
    return load_scores(output_dir, [item.id for item in inputs], built.spec.classes)


def load_scores(output_dir: Path, ids: Sequence[str], class_names: Sequence[str]) -> np.ndarray:
    """Classification scores as float32 ``[N, C]`` in manifest order, from scores.npy or scores.csv."""
    output_dir = Path(output_dir)
    npy, table = output_dir / SCORES_NPY, output_dir / SCORES_CSV
    if npy.exists() and table.exists():
        raise OutputError(f"{output_dir}: both {SCORES_NPY} and {SCORES_CSV} present; keep only one")
    if table.exists():
        return load_scores_csv(table, ids, class_names)
    if not npy.exists():
        raise OutputError(
            f"{npy}: not found; expected {SCORES_NPY} (float32 [{len(ids)}, {len(class_names)}]) or {SCORES_CSV}"
        )
    scores = load_npy(npy)
    check_matrix(npy, scores, len(ids), "scores")
    if scores.shape[1] != len(class_names):
        raise OutputError(
            f"{npy}: {scores.shape[1]} columns, expected {len(class_names)} "
            "(one per class, in the order of manifest.json 'classes')"
        )
    check_finite(npy, scores, ids)
    return scores


def load_scores_csv(path: Path, ids: Sequence[str], class_names: Sequence[str]) -> np.ndarray:
    """Read ``id,<class names...>`` rows (any row order) into float32 ``[N, C]`` in manifest order."""
    try:
        return _read_scores_csv(path, ids, class_names)
    except UnicodeDecodeError as exc:
        raise OutputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise OutputError(f"{path}: not a readable CSV file ({first_line(exc)})") from None


def _read_scores_csv(path: Path, ids: Sequence[str], class_names: Sequence[str]) -> np.ndarray:
    expected_header = ["id", *class_names]
    row_of_id = {item_id: row for row, item_id in enumerate(ids)}
    scores = np.full((len(ids), len(class_names)), np.nan, dtype=np.float64)
    line_of_id: dict[str, int] = {}
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise OutputError(f"{path}: empty file; expected header {','.join(expected_header)}")
        header = [cell.strip() for cell in header]
        if header != expected_header:
            raise OutputError(f"{path}:1: header {preview(header)}, expected {preview(expected_header)}")
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(expected_header):
                raise OutputError(
                    f"{path}:{line}: {len(cells)} cells, expected {len(expected_header)} (id and one per class)"
                )
            item_id = cells[0].strip()
            if item_id in line_of_id:
                raise OutputError(f"{path}:{line}: id {item_id!r} already given on line {line_of_id[item_id]}")
            if item_id not in row_of_id:
                raise OutputError(f"{path}:{line}: id {item_id!r} is not a test item of manifest.json")
            line_of_id[item_id] = line
            values = [parse_cell(path, line, name, cell) for name, cell in zip(class_names, cells[1:])]
            scores[row_of_id[item_id]] = values
    missing = [item_id for item_id in ids if item_id not in line_of_id]
    if missing:
        raise OutputError(f"{path}: {len(missing)} of {len(ids)} test ids missing, first {missing[0]!r}")
    scores = scores.astype(np.float32)
    check_finite(path, scores, ids)
    return scores


def evidence(
    built: BuiltBenchmark, scores: np.ndarray, inputs: list[ManifestItem], references: list[ManifestItem],
    options: ScoringOptions,
) -> tuple[Evidences, None]:
    """Scores with each item's true class index (its position in spec.classes)."""
    class_index = {name: index for index, name in enumerate(built.spec.classes)}
    labels = np.array([class_index[item.label] for item in inputs], dtype=np.int64)
    return {"classification": ClassificationEvidence(scores, labels, tuple(built.spec.classes))}, None


def document_fields(spec: BenchmarkSpec) -> dict[str, Any]:
    return {"classes": list(spec.classes)}


def check_spec(spec: BenchmarkSpec) -> tuple[str, str] | None:
    if len(spec.classes) < 2:
        return "classes", "a classification benchmark needs at least 2 class names"
    return None


def readme_sizes(built: BuiltBenchmark, inputs: list[ManifestItem]) -> list[str]:
    train = built.train_items()
    per_class = Counter(item.label for item in train)
    split = built.spec.split
    written = split.params.model_dump(mode="json", exclude_unset=True)
    params = ", ".join(f"{key}={value}" for key, value in sorted(written.items()))
    seed_note = " (the development split's; the server's is keyed)" if built.keyed else ""
    return [
        f"- train: {len(train)} images (with their truth)",
        f"- test inputs: {len(inputs)} images (no truth)",
        f"- split: {split.method} {params}, seed {split.seed}{seed_note}",
        "- classes (column order of the scores), with training images per class:",
        *(f"  {index}. {name}: {per_class.get(name, 0)}" for index, name in enumerate(built.spec.classes)),
    ]


STARTER = StarterCode(
    writes='scores.npy (float32 [N, C])',
    body='''

def features(image: np.ndarray) -> np.ndarray:
    """A colour layout: the image at 8x8, centred and scaled to unit length."""
    small = cv2.resize(image, (8, 8), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    small -= small.mean()
    return small / (np.linalg.norm(small) + 1e-6)


def predict_classification(input_dir: Path, output_dir: Path) -> None:
    """Scores [N, C] from a fixed random projection of the colour layout: replace with a trained model."""
    manifest = read_manifest(input_dir)
    classes = manifest["classes"]
    projection = np.random.default_rng(0).normal(size=(8 * 8 * 3, len(classes))).astype(np.float32)
    rows = [features(read_rgb(input_dir / item["path"])) @ projection for item in manifest["items"]]
    scores = np.asarray(rows, dtype=np.float32).reshape(len(rows), len(classes))
    np.save(output_dir / "scores.npy", scores)


if __name__ == "__main__":
    predict_classification(Path(sys.argv[1]), Path(sys.argv[2]))
''',
)


CLASSIFICATION = register_task(TaskType(
    name="classification",
    starter=STARTER,
    words=TaskWords(
        title="Classification",
        summary="image classification",
        input="one cartoon image; the submission scores every class",
        output="scores.npy: float32 [N, C], rows in manifest order (or scores.csv)",
        container_inputs="the test images and `classes`, the class names in column order",
        scoring=(
            "Rows follow `manifest.json` order; a test item is correct at k when fewer than k classes score at "
            "least as high as its true class (a class tied with the true class ranks above it: ties never help)."
        ),
    ),
    truth_field="label",
    expected_outputs=expected_outputs,
    load_outputs=load_outputs,
    evidence=evidence,
    readme_sizes=readme_sizes,
    document_fields=document_fields,
    check_spec=check_spec,
    figures=("confusion", "per_class"),
))
