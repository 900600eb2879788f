"""Face identification and verification: one embedding per face; truth is the item's ``identity``.

The roles (probes, gallery, verification pairs) stay with the evaluator:
a container sees every test face with its box and never learns which face
plays which role.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from datasets.build import BuiltBenchmark
from datasets.manifest import ManifestItem, Roles
from evaluator.metrics.identification import IdentificationEvidence, distractor_ranks, rank1_by_distractor_count
from evaluator.metrics.verification import VerificationEvidence, pair_similarities
from evaluator.output_files import OutputError, check_finite, check_matrix, load_npy
from evaluator.tasks.base import Evidences, ScoringOptions, StarterCode, TaskType, TaskWords, register_task

EMBEDDINGS_NPY = "embeddings.npy"


def expected_outputs(built: BuiltBenchmark, count: int) -> dict[str, Any]:
    return {
        "files": [EMBEDDINGS_NPY],
        "shape": [count, "D"],
        "dtype": "float32",
        "description": (
            f"{EMBEDDINGS_NPY}: float32 array [{count}, D] with D >= 1, one embedding per item in "
            "manifest.json order; compared by cosine similarity"
        ),
    }


def load_outputs(built: BuiltBenchmark, output_dir: Path, inputs: list[ManifestItem]) -> np.ndarray:
    return load_embeddings(output_dir, [item.id for item in inputs])


def load_embeddings(output_dir: Path, ids: Sequence[str]) -> np.ndarray:
    """Embeddings as float32 ``[N, D]`` (D >= 1) in manifest order."""
    path = Path(output_dir) / EMBEDDINGS_NPY
    if not path.exists():
        raise OutputError(f"{path}: not found; expected {EMBEDDINGS_NPY} (float32 [{len(ids)}, D])")
    embeddings = load_npy(path)
    check_matrix(path, embeddings, len(ids), "embeddings")
    if embeddings.shape[1] < 1:
        raise OutputError(f"{path}: shape {embeddings.shape}; the embedding dimension D must be at least 1")
    check_finite(path, embeddings, ids)
    return embeddings


def evidence(
    built: BuiltBenchmark, embeddings: np.ndarray, inputs: list[ManifestItem], references: list[ManifestItem],
    options: ScoringOptions,
) -> tuple[Evidences, None]:
    roles = _roles(built)
    return {
        "identification": identification_evidence(built, roles, embeddings, inputs, options.device),
        "verification": verification_evidence(roles, embeddings, inputs),
    }, None


def identification_evidence(
    built: BuiltBenchmark, roles: Roles, embeddings: np.ndarray, inputs: list[ManifestItem], device: str | None
) -> IdentificationEvidence:
    """Each probe ranked against the distractors plus its own gallery image (roles.probe_gallery),
    and rank-1 against seeded subsets of the distractors."""
    row = _rows(inputs)
    missing = [probe for probe in roles.probes if probe not in roles.probe_gallery]
    if missing or not roles.distractors:
        raise ValueError(
            f"{built.folder}/roles.json: expected a gallery image for every probe and a distractor set "
            f"({len(missing)} probes lack one); rebuild the benchmark"
        )
    probes = embeddings[[row[item_id] for item_id in roles.probes]]
    true_items = embeddings[[row[roles.probe_gallery[item_id]] for item_id in roles.probes]]
    distractors = embeddings[[row[item_id] for item_id in roles.distractors]]
    ranks = distractor_ranks(probes, true_items, distractors, device=device)
    counts, correct_at = rank1_by_distractor_count(probes, true_items, distractors, device=device)
    return IdentificationEvidence(ranks, distractor_counts=tuple(counts), correct_at=correct_at)


def verification_evidence(roles: Roles, embeddings: np.ndarray, inputs: list[ManifestItem]) -> VerificationEvidence:
    """Cosine similarity of every roles.pairs pair, with whether it is a same-identity pair."""
    row = _rows(inputs)
    index_a = np.array([row[a] for a, _, _ in roles.pairs], dtype=np.int64)
    index_b = np.array([row[b] for _, b, _ in roles.pairs], dtype=np.int64)
    same = np.array([bool(s) for _, _, s in roles.pairs], dtype=bool)
    return VerificationEvidence(pair_similarities(embeddings, index_a, index_b), same)


def _roles(built: BuiltBenchmark) -> Roles:
    if built.roles is None:
        raise FileNotFoundError(f"{built.folder}/roles.json: missing; rebuild the benchmark")
    return built.roles


def _rows(inputs: list[ManifestItem]) -> dict[str, int]:
    """Embedding row of each test id (manifest order)."""
    return {item.id: row for row, item in enumerate(inputs)}


def readme_sizes(built: BuiltBenchmark, inputs: list[ManifestItem]) -> list[str]:
    train = built.train_items()
    identities = {item.identity for item in train if item.identity != "-1"}
    lines = [
        f"- train: {len(train)} images (with their truth)",
        f"- test inputs: {len(inputs)} images (no truth)",
        f"- training identities: {len(identities)} (faces of no identity have identity \"-1\")",
    ]
    roles = built.roles
    if roles is not None:
        lines.append(
            f"- held out: {len(roles.probes)} probes, each searched in {len(roles.distractors)} distractors plus "
            f"its own identity's gallery image ({len(roles.gallery)} gallery images in all); "
            f"{len(roles.pairs)} verification pairs (half positive, half negative). Which test image plays "
            "which role stays on the evaluator side."
        )
    return lines


STARTER = StarterCode(
    writes='embeddings.npy (float32 [N, D])',
    body='''

def embed(image: np.ndarray, box: list[int] | None) -> np.ndarray:
    """The face box (whole image when none) in grey at 16x16, centred and L2-normalised."""
    if box is not None:
        x1, y1, x2, y2 = (int(v) for v in box)
        crop = image[max(y1, 0):max(y2, y1 + 1), max(x1, 0):max(x2, x1 + 1)]
        image = crop if crop.size else image
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    vector = cv2.resize(grey, (16, 16), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    vector -= vector.mean()
    return vector / (np.linalg.norm(vector) + 1e-6)


def predict_identification_verification(input_dir: Path, output_dir: Path) -> None:
    """Embeddings [N, D], rows in manifest order: replace ``embed`` with a trained network."""
    manifest = read_manifest(input_dir)
    rows = [embed(read_rgb(input_dir / item["path"]), item.get("box")) for item in manifest["items"]]
    np.save(output_dir / "embeddings.npy", np.asarray(rows, dtype=np.float32).reshape(len(rows), 16 * 16))


if __name__ == "__main__":
    predict_identification_verification(Path(sys.argv[1]), Path(sys.argv[2]))
''',
)


IDENTIFICATION_VERIFICATION = register_task(TaskType(
    name="identification_verification",
    starter=STARTER,
    words=TaskWords(
        title="Identification and verification",
        summary="face identification and verification",
        input="a cartoon image with a face box; the submission returns one embedding per image",
        output="embeddings.npy: float32 [N, D], rows in manifest order",
        container_inputs="the test face images with their face `box` `[x1, y1, x2, y2]` in image pixels",
        scoring=(
            "Embeddings are L2-normalised and compared by cosine similarity: each probe is ranked against the "
            "distractors plus its own identity's one gallery image, other probe identities never competing; a "
            "distractor that ties the true image ranks above it (CMC, rank-1 against the number of "
            "distractors); each pair is scored for verification (ROC, AUC, best accuracy by 10-fold "
            "cross-validation, TAR at FAR)."
        ),
    ),
    truth_field="identity",
    expected_outputs=expected_outputs,
    load_outputs=load_outputs,
    evidence=evidence,
    readme_sizes=readme_sizes,
    item_fields=("box",),
    figures=("cmc", "rank1_distractors", "roc"),
))
