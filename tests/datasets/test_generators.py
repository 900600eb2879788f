"""The synthetic generators: determinism, opaque ids, non-trivial classes,
face identities with look-alikes, real photographs in the photo domain.

Run with ``-s`` to see the measured figures (nearest-class-mean accuracy,
look-alike distances, photo-to-source correlations).
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest
from pydantic import ValidationError
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestCentroid

from datasets.generators import GENERATORS, _parallel
from datasets.manifest import ManifestItem
from datasets.spec import load_spec

REPO = Path(__file__).resolve().parents[2]
GENERATOR_OF = {"toonnet": "toon_objects", "illustration": "clipart_glyphs", "icartoonface": "cartoon_faces", "cartoonization": "photo_crops"}


def generate(slug: str, folder: Path, seed: int | None = None, profile: str = "tiny", **overrides: object) -> list[ManifestItem]:
    """Run the spec's generator with the profile's params (plus overrides) into ``folder``."""
    spec = load_spec(slug, profile)
    generator = GENERATORS.get(spec.dataset.synthetic.generator)
    params = generator.params_model.model_validate({**spec.dataset.synthetic.params.model_dump(), **overrides})
    (folder / "images").mkdir(parents=True, exist_ok=True)
    return generator.fn(params, spec.classes, spec.dataset.synthetic.seed if seed is None else seed, folder)


def digest(folder: Path, items: list[ManifestItem]) -> str:
    """sha256 over every image file's bytes and every item's JSON record."""
    hasher = hashlib.sha256()
    for path in sorted((folder / "images").iterdir()):
        hasher.update(path.name.encode())
        hasher.update(path.read_bytes())
    for item in sorted(items, key=lambda i: i.id):
        hasher.update(json.dumps(item.to_json(), sort_keys=True).encode())
    return hasher.hexdigest()


def read_rgb(folder: Path, item: ManifestItem) -> np.ndarray:
    image = cv2.imread(str(folder / item.path), cv2.IMREAD_COLOR)
    assert image is not None, f"{folder / item.path} is not a readable image"
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def pixels(folder: Path, items: list[ManifestItem], side: int = 32) -> np.ndarray:
    return np.stack([cv2.resize(read_rgb(folder, i), (side, side), interpolation=cv2.INTER_AREA).ravel() for i in items]).astype(np.float32) / 255


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, list[ManifestItem]]]:
    built = {}
    for slug in GENERATOR_OF:
        folder = tmp_path_factory.mktemp(slug)
        built[slug] = (folder, generate(slug, folder))
    return built


# ---------------------------------------------------------------- all generators


def test_the_four_generators_are_registered_for_their_tasks() -> None:
    tasks = {name: GENERATORS.get(name).tasks for name in GENERATOR_OF.values()}
    assert tasks == {
        "toon_objects": ("classification",),
        "clipart_glyphs": ("classification",),
        "cartoon_faces": ("identification_verification",),
        "photo_crops": ("translation",),
    }


@pytest.mark.parametrize("slug", sorted(GENERATOR_OF))
def test_it_writes_one_readable_png_of_the_profile_size_per_item(slug: str, tiny: dict) -> None:
    folder, items = tiny[slug]
    size = load_spec(slug, "tiny").dataset.synthetic.params.size
    assert sorted(p.name for p in (folder / "images").iterdir()) == sorted(f"{i.id}.png" for i in items)
    for item in items:
        assert item.path == f"images/{item.id}.png" and item.sha256 == "" and item.split == ""
        assert read_rgb(folder, item).shape == (size, size, 3)


@pytest.mark.parametrize("slug", sorted(GENERATOR_OF))
def test_it_gives_byte_identical_output_in_another_process(slug: str, tiny: dict, tmp_path: Path) -> None:
    folder, items = tiny[slug]
    script = textwrap.dedent(
        f"""
        import sys
        sys.path[:0] = [{str(REPO)!r}, {str(Path(__file__).parent)!r}]
        from pathlib import Path
        from test_generators import digest, generate
        folder = Path({str(tmp_path)!r})
        print(digest(folder, generate({slug!r}, folder)))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == digest(folder, items)


def test_worker_processes_write_the_same_files_and_items_as_one_process(tiny: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, items = tiny["icartoonface"]
    monkeypatch.setattr(_parallel, "PER_WORKER", 100)
    monkeypatch.setenv("TOONBENCH_GENERATOR_WORKERS", "3")
    assert digest(tmp_path, generate("icartoonface", tmp_path)) == digest(folder, items)


def test_a_different_seed_gives_different_images(tiny: dict, tmp_path: Path) -> None:
    folder, items = tiny["toonnet"]
    other = generate("toonnet", tmp_path, seed=1)
    assert digest(tmp_path, other) != digest(folder, items)
    assert not {i.id for i in other} & {i.id for i in items}
    first = {(folder / i.path).read_bytes() for i in items}
    assert not first & {(tmp_path / i.path).read_bytes() for i in other}


@pytest.mark.parametrize("slug", sorted(GENERATOR_OF))
def test_ids_are_unique_hex_and_do_not_order_items_by_their_truth(slug: str, tiny: dict) -> None:
    _, items = tiny[slug]
    ids = [item.id for item in items]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 16 and int(i, 16) >= 0 for i in ids)
    truths = [item.label or item.identity or item.domain for item in sorted(items, key=lambda i: i.id)]
    same_neighbours = sum(a == b for a, b in zip(truths, truths[1:])) / (len(truths) - 1)
    counts = np.array(list(Counter(truths).values()), dtype=float)
    by_chance = float(((counts / counts.sum()) ** 2).sum())
    assert same_neighbours < 2 * by_chance + 0.05, f"id order reveals the truth: {same_neighbours:.2f} vs {by_chance:.2f} by chance"


# ---------------------------------------------------------------- classification


@pytest.mark.slow
@pytest.mark.parametrize(("slug", "low", "high"), [("toonnet", 0.15, 0.6), ("illustration", 0.15, 0.6)])
def test_nearest_class_mean_on_raw_pixels_is_well_above_chance_and_well_below_perfect(
    slug: str, low: float, high: float, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    items = generate(slug, tmp_path, per_class=60, size=64)
    labels = [item.label for item in items]
    assert Counter(labels) == {name: 60 for name in load_spec(slug).classes}
    train_x, test_x, train_y, test_y = train_test_split(pixels(tmp_path, items), labels, test_size=0.3, stratify=labels, random_state=0)
    accuracy = NearestCentroid().fit(train_x, train_y).score(test_x, test_y)
    chance = 1 / len(set(labels))
    with capsys.disabled():  # the figure belongs in the test output (and the README)
        print(f"\n{slug}: nearest-class-mean accuracy on 32x32 pixels {accuracy:.3f} (chance {chance:.3f})")
    assert max(low, 2 * chance) < accuracy < high


# ---------------------------------------------------------------- faces


def test_every_identity_has_between_min_and_max_images(tiny: dict) -> None:
    _, items = tiny["icartoonface"]
    params = load_spec("icartoonface", "tiny").dataset.synthetic.params
    low, high = params.images_per_identity
    counts = Counter(item.identity for item in items)
    assert sorted(counts, key=int) == [str(i) for i in range(params.identities)]
    assert all(low <= n <= high for n in counts.values())


def test_face_boxes_lie_inside_the_image_and_cover_a_face_sized_region(tiny: dict) -> None:
    folder, items = tiny["icartoonface"]
    size = load_spec("icartoonface", "tiny").dataset.synthetic.params.size
    boxes = np.array([item.box for item in items])
    assert ((boxes >= 0) & (boxes <= size - 1)).all()
    assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()
    sides = np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    assert sides.min() >= 0.15 * size


def face_crops(folder: Path, items: list[ManifestItem], side: int = 24) -> np.ndarray:
    crops = []
    for item in items:
        x1, y1, x2, y2 = item.box
        crop = read_rgb(folder, item)[y1 : y2 + 1, x1 : x2 + 1]
        crops.append(cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA).ravel())
    return np.array(crops, dtype=np.float32) / 255


def test_identities_are_learnable_but_look_alike_identities_exist(tiny: dict) -> None:
    folder, items = tiny["icartoonface"]
    crops = face_crops(folder, items)
    identities = np.array([int(item.identity) for item in items])
    distances = np.linalg.norm(crops[:, None] - crops[None], axis=2)
    np.fill_diagonal(distances, np.inf)
    nearest = identities[distances.argmin(axis=1)]
    one_nn = float((nearest == identities).mean())
    chance = 1 / len(set(identities))
    means = np.stack([crops[identities == k].mean(axis=0) for k in sorted(set(identities))])
    between = np.linalg.norm(means[:, None] - means[None], axis=2)
    closest = np.sort(between + np.eye(len(means)) * 1e9, axis=1)[:, 0]
    ratio = float(closest.min() / np.median(between[np.triu_indices(len(means), 1)]))
    print(f"\nfaces: 1-NN identity accuracy on face crops {one_nn:.3f} (chance {chance:.3f}); closest identity pair / median pair distance {ratio:.2f}")
    assert 5 * chance < one_nn < 0.95
    assert (nearest != identities).any()
    assert ratio < 0.5


def test_identity_is_not_written_in_the_id_or_path(tiny: dict) -> None:
    _, items = tiny["icartoonface"]
    for item in items:
        assert item.identity not in (item.id, item.path)
        assert hashlib.sha256(item.identity.encode()).hexdigest()[:16] != item.id


def test_images_per_identity_must_be_an_increasing_positive_range() -> None:
    params_model = GENERATORS.get("cartoon_faces").params_model
    with pytest.raises(ValidationError, match="images_per_identity"):
        params_model(identities=10, images_per_identity=[5, 3], size=64)
    with pytest.raises(ValidationError, match="images_per_identity"):
        params_model(identities=10, images_per_identity=[0, 3], size=64)


# ---------------------------------------------------------------- photos


def bundled_photos() -> list[np.ndarray]:
    """The colour photographs of scikit-image and scikit-learn, read independently of the generator."""
    import skimage.data
    from sklearn.datasets import load_sample_images

    names = ("astronaut", "coffee", "chelsea", "rocket")
    return [getattr(skimage.data, n)()[..., :3] for n in names] + list(load_sample_images().images)


def scaled_sources(side: int = 32) -> list[np.ndarray]:
    """Every bundled photo in grey at the scales where a crop of 25%..85% of its short side is ``side`` pixels."""
    scaled = []
    for source in bundled_photos():
        grey = cv2.cvtColor(source, cv2.COLOR_RGB2GRAY)
        for fraction in np.linspace(0.25, 0.85, 11):
            factor = side / (fraction * min(grey.shape))
            scaled.append(cv2.resize(grey, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA))
    return scaled


def best_source_correlation(image: np.ndarray, sources: list[np.ndarray], side: int = 32, patch: int = 20) -> float:
    """Highest normalised cross-correlation of the image's centre with any bundled photo at any scale, rotation or mirror."""
    small = cv2.cvtColor(cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
    margin = (side - patch) // 2
    templates = []
    for angle in (-10, -5, 0, 5, 10):
        turned = cv2.warpAffine(small, cv2.getRotationMatrix2D((side / 2, side / 2), angle, 1.0), (side, side))
        centre = turned[margin : margin + patch, margin : margin + patch]
        templates += [centre, np.ascontiguousarray(centre[:, ::-1])]
    return max(float(cv2.matchTemplate(source, t, cv2.TM_CCOEFF_NORMED).max()) for source in sources for t in templates)


def test_both_domains_have_the_requested_counts(tiny: dict) -> None:
    _, items = tiny["cartoonization"]
    params = load_spec("cartoonization", "tiny").dataset.synthetic.params
    assert Counter(item.domain for item in items) == {"photo": params.photos, "cartoon": params.cartoons}


@pytest.mark.slow
def test_photo_items_are_crops_of_the_bundled_photographs_and_cartoons_are_not(tiny: dict) -> None:
    folder, items = tiny["cartoonization"]
    sources = scaled_sources()
    photo = [best_source_correlation(read_rgb(folder, i), sources) for i in items if i.domain == "photo"][:12]
    cartoon = [best_source_correlation(read_rgb(folder, i), sources) for i in items if i.domain == "cartoon"][:12]
    print(f"\nphotos: median best correlation with a bundled photo {np.median(photo):.3f} (min {min(photo):.3f}); cartoons {np.median(cartoon):.3f}")
    assert np.median(photo) > 0.93 and min(photo) > 0.85
    assert np.median(cartoon) < np.median(photo) - 0.1


def test_cartoon_items_are_flat_colour_regions_and_photos_are_not(tiny: dict) -> None:
    folder, items = tiny["cartoonization"]

    def flat_share(item: ManifestItem) -> float:
        image = read_rgb(folder, item).astype(int)
        return float((np.abs(np.diff(image, axis=1)).sum(axis=2) == 0).mean())

    cartoon = np.median([flat_share(i) for i in items if i.domain == "cartoon"])
    photo = np.median([flat_share(i) for i in items if i.domain == "photo"])
    print(f"\nshare of horizontally flat pixels: cartoons {cartoon:.2f}, photos {photo:.2f}")
    assert cartoon > 0.5 > photo
