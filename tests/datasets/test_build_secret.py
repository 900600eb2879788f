"""The build secret: the public bundle rebuilds a development split that shares nothing with the server's.

A participant holds the bundle (spec with its seeds, images, public manifest)
and the code. Before keyed builds the server's test truth was a function of
those alone: ids were ``sha256(name:seed:index)`` and the class ``index % C``.
Here each attack is run against a server build (secret) and, as a control
that shows the attack works, against the public development build.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
import zipfile
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from datasets.__main__ import main
from datasets.adapters import image_files
from datasets.build import BuiltBenchmark, build_benchmark
from datasets.generators import _parallel
from datasets.generators._draw import opaque_id
from datasets.secret import (
    SECRET_ENV,
    BuildSecretError,
    ensure_build_secret,
    find_build_secret,
    keyed_seed,
)
from datasets.spec import load_spec
from evaluator.bundle import export_bundle
from evaluator.contract import prepare_input

SECRET = "test-build-secret-" + "5f0c" * 10
SLUGS = ["toonnet", "illustration", "icartoonface", "cartoonization"]
GENERATOR_OF = {"toonnet": "toon_objects", "illustration": "clipart_glyphs"}
SEED_GUESSES = 64


@pytest.fixture(autouse=True)
def no_configured_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory):
    """``builds(slug)`` -> (server build, its bundle, development build rebuilt from that bundle)."""
    server_root = tmp_path_factory.mktemp("server")
    participant = tmp_path_factory.mktemp("participant")
    cache: dict[str, tuple[BuiltBenchmark, Path, BuiltBenchmark]] = {}

    def get(slug: str) -> tuple[BuiltBenchmark, Path, BuiltBenchmark]:
        if slug not in cache:
            server = build_benchmark(slug, server_root, profile="tiny", source="synthetic", secret=SECRET)
            bundle = export_bundle(slug, server_root, participant / f"{slug}.zip")
            cache[slug] = (server, bundle, rebuild_from_bundle(bundle, slug, participant / "dev"))
        return cache[slug]

    return get


def rebuild_from_bundle(bundle: Path, slug: str, root: Path) -> BuiltBenchmark:
    """What a participant can do: take the spec and profile out of the bundle and build it."""
    with zipfile.ZipFile(bundle) as archive:
        spec_text = archive.read(f"{slug}/{slug}.yaml").decode()
        profile = json.loads(archive.read(f"{slug}/protocol.json"))["profile"]
    spec_file = root / f"{slug}.yaml"
    spec_file.parent.mkdir(parents=True, exist_ok=True)
    spec_file.write_text(spec_text)
    return build_benchmark(load_spec(spec_file, profile), root, source="synthetic")


def sorted_test_ids(built: BuiltBenchmark) -> list[str]:
    return sorted(item.id for item in built.test_items())


def chance_bound(first: list[str], second: list[str]) -> tuple[float, float]:
    """Agreement of two label sequences position by position, and the most chance allows (mean + 4 sd)."""
    count = min(len(first), len(second))
    agree = sum(a == b for a, b in zip(first, second)) / count
    p, q = Counter(first[:count]), Counter(second[:count])
    chance = sum(p[label] * q[label] for label in p) / count ** 2
    return agree, chance + 4 * math.sqrt(chance * (1 - chance) / count)


def truth_by_position(built: BuiltBenchmark, field: str) -> list[str]:
    return [str(getattr(item, field)) for item in sorted(built.test_items(), key=lambda i: i.id)]


def roles_by_position(built: BuiltBenchmark) -> list[str]:
    probes, gallery = set(built.roles.probes), set(built.roles.gallery)
    return ["probe" if i in probes else "gallery" if i in gallery else "other" for i in sorted_test_ids(built)]


# ---------------------------------------------------------------- the secret itself


def test_the_environment_secret_wins_over_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert find_build_secret(tmp_path) is None
    made = ensure_build_secret(tmp_path)
    assert len(made) == 64 and int(made, 16) >= 0
    assert stat.S_IMODE((tmp_path / ".build-secret").stat().st_mode) == 0o600
    assert ensure_build_secret(tmp_path) == made == find_build_secret(tmp_path)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    assert find_build_secret(tmp_path) == SECRET


def test_a_short_secret_is_refused_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv(SECRET_ENV, "hunter2")
    with pytest.raises(BuildSecretError, match=r"\$TOONBENCH_BUILD_SECRET: the build secret has 7 characters"):
        find_build_secret(tmp_path)
    assert main(["build", "toonnet", "--data", str(tmp_path), "--profile", "tiny"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "at least 32" in err
    assert not (tmp_path / "toonnet").exists()


def test_keyed_seeds_are_the_public_seed_without_a_secret_and_independent_per_purpose() -> None:
    assert keyed_seed(7, None, "split") == 7
    assert keyed_seed(7, SECRET, "split") != keyed_seed(7, SECRET, "synthetic")
    assert keyed_seed(7, SECRET, "split") != keyed_seed(7, SECRET + "x", "split")
    assert keyed_seed(7, SECRET, "split") >= 2 ** 200


# ---------------------------------------------------------------- determinism


def build_bytes(built: BuiltBenchmark) -> dict[str, bytes]:
    return {path.relative_to(built.folder).as_posix(): path.read_bytes()
            for path in sorted(built.folder.rglob("*")) if path.is_file()}


def test_a_server_build_is_byte_identical_for_the_same_secret_and_differs_for_another(tmp_path: Path) -> None:
    first = build_benchmark("icartoonface", tmp_path / "a", profile="tiny", secret=SECRET)
    again = build_benchmark("icartoonface", tmp_path / "b", profile="tiny", secret=SECRET)
    other = build_benchmark("icartoonface", tmp_path / "c", profile="tiny", secret=SECRET[::-1])
    assert build_bytes(first) == build_bytes(again)
    assert first.protocol_hash == again.protocol_hash != other.protocol_hash


def test_a_development_build_is_byte_identical_and_never_keyed(tmp_path: Path) -> None:
    first = build_benchmark("toonnet", tmp_path / "a", profile="tiny")
    again = build_benchmark("toonnet", tmp_path / "b", profile="tiny", secret=None)
    assert build_bytes(first) == build_bytes(again)
    record = json.loads((first.folder / "protocol.json").read_text())
    assert record["keyed"] is False and "key_id" not in record and first.keyed is False


def test_worker_processes_draw_the_same_keyed_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alone = build_benchmark("toonnet", tmp_path / "alone", profile="tiny", secret=SECRET)
    monkeypatch.setattr(_parallel, "PER_WORKER", 60)
    monkeypatch.setenv("TOONBENCH_GENERATOR_WORKERS", "3")
    workers = build_benchmark("toonnet", tmp_path / "workers", profile="tiny", secret=SECRET)
    assert build_bytes(alone) == build_bytes(workers)


def test_a_build_made_with_another_secret_is_rebuilt_not_reused(tmp_path: Path) -> None:
    dev = build_benchmark("toonnet", tmp_path, profile="tiny")
    server = build_benchmark("toonnet", tmp_path, profile="tiny", secret=SECRET)
    rotated = build_benchmark("toonnet", tmp_path, profile="tiny", secret=SECRET[::-1])
    assert len({dev.protocol_hash, server.protocol_hash, rotated.protocol_hash}) == 3
    assert build_benchmark("toonnet", tmp_path, profile="tiny", secret=SECRET[::-1]).protocol_hash == rotated.protocol_hash


# ---------------------------------------------------------------- the bundle reproduction attack


def labels_recomputed_from_ids(ids: list[str], generator: str, classes: list[str], count: int, seeds: range) -> dict[str, str]:
    """The old attack: an id is sha256(name:seed:index)[:16] and its class is index % C."""
    wanted = set(ids)
    found = {}
    for seed in seeds:
        for index in range(count):
            item_id = opaque_id(generator, seed, index)
            if item_id in wanted:
                found[item_id] = classes[index % len(classes)]
    return found


@pytest.mark.parametrize("slug", sorted(GENERATOR_OF))
def test_test_labels_cannot_be_recomputed_from_the_bundle_ids(builds, slug: str) -> None:
    server, bundle, dev = builds(slug)
    spec = server.spec
    count = len(server.items)
    with zipfile.ZipFile(bundle) as archive:
        records = [json.loads(line) for line in archive.read(f"{slug}/manifest.public.jsonl").decode().splitlines()]
    bundle_test_ids = [record["id"] for record in records if record["split"] == "test"]
    assert sorted(bundle_test_ids) == sorted_test_ids(server)

    guessed = labels_recomputed_from_ids(bundle_test_ids, GENERATOR_OF[slug], spec.classes, count, range(SEED_GUESSES))
    assert guessed == {}

    # control: on the development split (what the server used to be) the same attack reads off every label
    dev_truth = {item.id: item.label for item in dev.test_items()}
    public_seed = range(spec.dataset.synthetic.seed, spec.dataset.synthetic.seed + 1)
    assert labels_recomputed_from_ids(list(dev_truth), GENERATOR_OF[slug], spec.classes, count, public_seed) == dev_truth


@pytest.mark.parametrize("slug", SLUGS)
def test_the_rebuilt_development_split_shares_no_image_and_no_id_with_the_server(builds, slug: str) -> None:
    server, _, dev = builds(slug)
    assert not dev.keyed and server.keyed
    assert dev.protocol_hash != server.protocol_hash
    assert not {item.sha256 for item in dev.items} & {item.sha256 for item in server.items}
    assert not {item.id for item in dev.items} & {item.id for item in server.items}


@pytest.mark.parametrize("slug", ["toonnet", "illustration"])
def test_development_labels_agree_with_the_server_labels_only_by_chance(builds, slug: str) -> None:
    server, _, dev = builds(slug)
    agree, bound = chance_bound(truth_by_position(dev, "label"), truth_by_position(server, "label"))
    assert agree <= bound, f"{slug}: {agree:.3f} of test labels agree position by position, chance allows {bound:.3f}"


def test_development_roles_and_identities_agree_with_the_server_only_by_chance(builds) -> None:
    server, _, dev = builds("icartoonface")
    assert not set(dev.roles.probes) & set(server.roles.probes)
    assert not {a for a, _, _ in dev.roles.pairs} & {a for a, _, _ in server.roles.pairs}
    agree, bound = chance_bound(roles_by_position(dev), roles_by_position(server))
    assert agree <= bound, f"roles agree at {agree:.3f} of positions, chance allows {bound:.3f}"
    agree, bound = chance_bound(truth_by_position(dev, "identity"), truth_by_position(server, "identity"))
    assert agree <= bound, f"identities agree at {agree:.3f} of positions, chance allows {bound:.3f}"
    same_pairs = [same for _, _, same in server.roles.pairs]
    assert same_pairs.count(True) == same_pairs.count(False)  # the server's roles are still a full protocol


def test_the_server_bundle_says_which_split_it_is_and_how_to_build_the_development_one(builds) -> None:
    server, bundle, _ = builds("toonnet")
    with zipfile.ZipFile(bundle) as archive:
        readme = archive.read("toonnet/README.md").decode()
        protocol = json.loads(archive.read("toonnet/protocol.json"))
    assert protocol["split"] == "server" and protocol["protocol_hash"] == server.protocol_hash
    assert "python -m datasets build toonnet --dev" in readme
    assert "its numbers are not the leaderboard's" in readme
    assert "seed 0 (the development split's; the server's is keyed)" in readme


# ---------------------------------------------------------------- the secret stays on the server


@pytest.mark.parametrize("slug", ["toonnet", "icartoonface"])
def test_the_secret_and_the_keyed_seeds_appear_in_no_built_bundled_or_input_file(builds, slug: str, tmp_path: Path) -> None:
    server, bundle, _ = builds(slug)
    spec = server.spec
    needles = [SECRET.encode(), hashlib.sha256(SECRET.encode()).hexdigest().encode()]
    needles += [str(keyed_seed(spec.dataset.synthetic.seed, SECRET, "synthetic")).encode(),
                str(keyed_seed(spec.split.seed, SECRET, "split")).encode()]
    files = {f"build:{name}": data for name, data in build_bytes(server).items()}
    with zipfile.ZipFile(bundle) as archive:
        files.update({f"bundle:{info.filename}": archive.read(info) for info in archive.infolist()})
    input_dir = prepare_input(server, tmp_path / "input")
    files.update({f"input:{path}": path.read_bytes() for path in input_dir.rglob("*") if path.is_file()})
    assert {"build:manifest.jsonl", "build:protocol.json", f"bundle:{slug}/protocol.json", "input:" + str(input_dir / "manifest.json")} <= set(files)
    leaks = [name for name, data in files.items() for needle in needles if needle in data]
    assert leaks == []


# ---------------------------------------------------------------- the command line


def test_build_server_generates_the_secret_once_and_a_plain_build_then_keeps_using_it(tmp_path: Path, capsys) -> None:
    root = tmp_path / "data"
    assert main(["build", "toonnet", "--data", str(root), "--profile", "tiny", "--server"]) == 0
    out = capsys.readouterr().out
    secret = (root / ".build-secret").read_text().strip()
    assert "server split, keyed by the build secret" in out
    expected = build_benchmark("toonnet", tmp_path / "check", profile="tiny", secret=secret).protocol_hash
    assert f"protocol hash {expected}" in out

    assert main(["build", "toonnet", "--data", str(root), "--profile", "tiny"]) == 0
    assert f"protocol hash {expected}" in capsys.readouterr().out
    assert (root / ".build-secret").read_text().strip() == secret

    assert main(["build", "toonnet", "--data", str(root), "--profile", "tiny", "--public"]) == 0
    out = capsys.readouterr().out
    assert "public development split" in out
    assert f"protocol hash {build_benchmark('toonnet', tmp_path / 'dev', profile='tiny').protocol_hash}" in out
    assert sorted(os.listdir(root)) == [".build-secret", "toonnet"]


def test_a_plain_build_without_any_secret_is_the_development_split(tmp_path: Path, capsys) -> None:
    assert main(["build", "toonnet", "--data", str(tmp_path), "--profile", "tiny"]) == 0
    assert "public development split: anyone can rebuild its test truth" in capsys.readouterr().out
    assert not (tmp_path / ".build-secret").exists()


def test_the_environment_secret_keys_a_plain_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    assert main(["build", "toonnet", "--data", str(tmp_path / "data"), "--profile", "tiny"]) == 0
    expected = build_benchmark("toonnet", tmp_path / "check", profile="tiny", secret=SECRET).protocol_hash
    assert f"protocol hash {expected}" in capsys.readouterr().out
    assert not (tmp_path / "data" / ".build-secret").exists()


# ---------------------------------------------------------------- real data


def test_real_item_ids_are_keyed_so_a_copy_of_the_dataset_does_not_name_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    classes = load_spec("toonnet").classes
    relatives = []
    for index, name in enumerate(classes):
        for image in range(4):
            relative = f"{name}/{image}.png"
            path = tmp_path / "real" / "toonnet" / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(cv2.imencode(".png", np.full((8, 8, 3), index * 20 + image, dtype=np.uint8))[1].tobytes())
            relatives.append(relative)
    monkeypatch.setenv("TOONBENCH_DATA", str(tmp_path / "real"))
    from_paths = {image_files.opaque_id("folder_per_class", relative) for relative in relatives}
    dev = build_benchmark("toonnet", tmp_path / "dev", profile="tiny", source="real")
    server = build_benchmark("toonnet", tmp_path / "server", profile="tiny", source="real", secret=SECRET)
    assert {item.id for item in dev.items} == from_paths
    assert not {item.id for item in server.items} & from_paths
    assert sorted(path.name for path in (server.folder / "images").iterdir()) == sorted(f"{i.id}.png" for i in server.items)
    assert sorted(i.sha256 for i in server.items) == sorted(i.sha256 for i in dev.items)  # same pixels, other names
    assert dev.protocol_hash != server.protocol_hash
