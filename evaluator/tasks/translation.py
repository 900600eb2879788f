"""Image-to-image translation: one cartoon per test photo; truth is the item's ``domain``.

Only the test photos are inputs; the test cartoons stay with the evaluator
as the FID reference set.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from datasets.build import BuiltBenchmark, fid_resolution
from datasets.manifest import ManifestItem
from evaluator.metrics.generation import GenerationEvidence
from evaluator.metrics.inception import load_extractor
from evaluator.output_files import OutputError, first_line
from evaluator.tasks.base import Evidences, ScoringOptions, StarterCode, TaskType, TaskWords, register_task

OUTPUT_IMAGES_DIR = "images"


@dataclass(frozen=True)
class InputImage:
    """One translation input: its id and size (width, height) in pixels."""

    id: str
    size: tuple[int, int]


def expected_outputs(built: BuiltBenchmark, count: int) -> dict[str, Any]:
    return {
        "files": [f"{OUTPUT_IMAGES_DIR}/<id>.png"],
        "count": count,
        "description": (
            f"{OUTPUT_IMAGES_DIR}/<id>.png: one PNG per input image ({count}), the same width and height as the input"
        ),
    }


def load_outputs(built: BuiltBenchmark, output_dir: Path, inputs: list[ManifestItem]) -> list[Path]:
    images = [InputImage(item.id, _image_size(built.folder / item.path)) for item in inputs]
    return check_translation_images(output_dir, images)


def _image_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def check_translation_images(output_dir: Path, inputs: Sequence[InputImage]) -> list[Path]:
    """One readable PNG per input, named ``images/<id>.png``, the same size; returns them in input order."""
    folder = Path(output_dir) / OUTPUT_IMAGES_DIR
    if not folder.is_dir():
        raise OutputError(f"{folder}: not found; expected one PNG per input image ({len(inputs)}) named <id>.png")
    expected_names = {f"{image.id}.png" for image in inputs}
    extra = sorted(path.name for path in folder.iterdir() if path.name not in expected_names)
    if extra:
        raise OutputError(
            f"{folder}: {len(extra)} unexpected entries, first {extra[0]!r}; expected only <id>.png for the input ids"
        )
    missing = [image.id for image in inputs if not (folder / f"{image.id}.png").is_file()]
    if missing:
        raise OutputError(f"{folder}: {len(missing)} of {len(inputs)} output images missing, first {missing[0]}.png")
    paths = []
    for image in inputs:
        path = folder / f"{image.id}.png"
        _check_png(path, image.size)
        paths.append(path)
    return paths


def _check_png(path: Path, expected: tuple[int, int]) -> None:
    """A PNG of the expected size (checked from the header first) that decodes fully."""
    try:
        with Image.open(path) as image:
            if image.format != "PNG":
                raise OutputError(f"{path}: a {image.format} image, expected PNG")
            if image.size != expected:
                width, height = image.size
                raise OutputError(
                    f"{path}: {width}x{height} pixels, expected {expected[0]}x{expected[1]} (the input's size)"
                )
            image.load()
    except OutputError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as exc:
        raise OutputError(f"{path}: not a readable PNG ({first_line(exc)})") from None


def evidence(
    built: BuiltBenchmark, outputs: list[Path], inputs: list[ManifestItem], references: list[ManifestItem],
    options: ScoringOptions,
) -> tuple[Evidences, dict[str, Any]]:
    """Features of the outputs, the input photos and the reference cartoons, from one extractor.

    The record names the extractor, its weights and ``fid_resolution``: the side of the square
    images compared (outputs have their input's size), 256 for a build from the real data.
    """
    if options.extractor is None:
        extractor = load_extractor(device=options.device, progress=True)
    else:
        extractor = load_extractor(options.extractor, device=options.device, progress=True)
    generation = GenerationEvidence(
        output_features=extractor(outputs),
        photo_features=extractor([built.folder / item.path for item in inputs]),
        reference_features=extractor([built.folder / item.path for item in references]),
        extractor_name=extractor.name,
        weights_sha256=extractor.weights_sha256,
        standard=extractor.standard,
    )
    record = {
        "name": extractor.name,
        "weights_sha256": extractor.weights_sha256,
        "standard": bool(extractor.standard),
        "fid_resolution": fid_resolution(built.folder, inputs + references),
    }
    return {"generation": generation}, record


def readme_sizes(built: BuiltBenchmark, inputs: list[ManifestItem]) -> list[str]:
    domains = Counter(item.domain for item in built.train_items())
    return [
        f"- train: {domains.get('photo', 0)} photos and {domains.get('cartoon', 0)} cartoons (unpaired, with their domain)",
        f"- test inputs: {len(inputs)} photos (no truth)",
        f"- held out: {len(TRANSLATION.references(built))} reference cartoons for FID (not in this bundle)",
    ]


def is_photo(item: ManifestItem) -> bool:
    return item.domain == "photo"


def is_cartoon(item: ManifestItem) -> bool:
    return item.domain == "cartoon"


STARTER = StarterCode(
    writes='images/<id>.png (one per input, same size)',
    body='''

def cartoonize(photo: np.ndarray) -> np.ndarray:
    """Flat colours and dark edges: edge-preserving smoothing, colour quantisation, adaptive-threshold lines."""
    smooth = cv2.bilateralFilter(photo, 9, 75, 75)
    flat = (smooth // 32) * 32 + 16
    grey = cv2.medianBlur(cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY), 5)
    edges = cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 9, 5)
    return (flat * (edges[..., None] > 0)).astype(np.uint8)


def predict_translation(input_dir: Path, output_dir: Path) -> None:
    """One PNG per input, same size: replace ``cartoonize`` with a trained generator."""
    manifest = read_manifest(input_dir)
    (output_dir / "images").mkdir(parents=True, exist_ok=True)
    for item in manifest["items"]:
        cartoon = cartoonize(read_rgb(input_dir / item["path"]))
        cv2.imwrite(str(output_dir / "images" / f"{item['id']}.png"), cv2.cvtColor(cartoon, cv2.COLOR_RGB2BGR))


if __name__ == "__main__":
    predict_translation(Path(sys.argv[1]), Path(sys.argv[2]))
''',
)


def training_photos(built: BuiltBenchmark) -> list[ManifestItem]:
    """The training split's photos: public (the bundle ships them), so entries may be shown on them."""
    return [item for item in built.train_items() if item.domain == "photo"]


TRANSLATION = register_task(TaskType(
    name="translation",
    starter=STARTER,
    sample_inputs=training_photos,
    words=TaskWords(
        title="Image translation",
        summary="image-to-image translation",
        input="a photograph; the submission returns its cartoon version, same size",
        output="images/<id>.png: one per input, same size as the input",
        container_inputs="the test photos (the reference cartoons are never shown)",
        scoring="Write 8-bit PNGs; outputs are compared with the reference cartoons and with the input photos by FID.",
    ),
    truth_field="domain",
    expected_outputs=expected_outputs,
    load_outputs=load_outputs,
    evidence=evidence,
    readme_sizes=readme_sizes,
    is_input=is_photo,
    is_reference=is_cartoon,
))
