"""End-to-end FID (PNG files -> features -> distance): ours vs pytorch-fid.

    .venv/bin/python bench/bench_fid.py [--images 100] [--size 128] [--device cpu|cuda]
                                        [--batch-size 50] [--workers 8]

Writes two deterministic sets of PNG images to a temporary folder and times
``load_extractor(...)`` + features of both sets + ``fid_from_features``
against ``pytorch_fid.fid_score.calculate_fid_given_paths`` on the same
files, both including model construction. Without the standard weights
(``pt_inception-2015-12-05-6726825d.pth`` in torch hub's cache or at
``$TOONBENCH_FID_WEIGHTS``), a deterministic seeded weights file is written and
both tools load it: the timings stand, the FID values are not standard ones.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from evaluator.metrics.frechet import fid_from_features  # noqa: E402
from evaluator.metrics.inception import (  # noqa: E402
    FidWeightsMissing,
    find_standard_weights,
    load_extractor,
    seeded_state_dict,
)


def write_images(folder: Path, count: int, size: int, seed: int) -> list[Path]:
    """Smooth colour fields with a few flat-shaded discs: cheap, deterministic, varied."""
    from PIL import Image, ImageDraw

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0.0, 1.0, size)
    paths = []
    for index in range(count):
        low, high = rng.random(3), rng.random(3)
        field = low + (high - low) * ramp[:, None, None] * rng.random()
        pixels = np.broadcast_to(field, (size, size, 3)) * 255
        image = Image.fromarray(pixels.astype(np.uint8))
        draw = ImageDraw.Draw(image)
        for _ in range(int(rng.integers(1, 6))):
            x, y, r = rng.integers(0, size, 2).tolist() + [int(rng.integers(4, size // 3))]
            draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.integers(0, 256, 3).tolist()))
        path = folder / f"{index:06d}.png"
        image.save(path)
        paths.append(path)
    return paths


def point_both_tools_at_weights(scratch: Path) -> str:
    """Standard weights if present; else a seeded file that both tools load."""
    import torch
    from pytorch_fid import inception

    try:
        weights = find_standard_weights()
        note = f"standard weights {weights}"
    except FidWeightsMissing:
        weights = scratch / "seeded-inception.pth"
        torch.save(seeded_state_dict(), weights)
        os.environ["TOONBENCH_FID_WEIGHTS"] = str(weights)
        note = ("NO standard weights on this machine: both tools use the same seeded "
                f"weights file {weights}; timings stand, FID values are not standard")
    inception.load_state_dict_from_url = lambda *args, **kwargs: torch.load(
        weights, map_location="cpu", weights_only=True)
    return note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100, help="images per set")
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda if present)")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--workers", type=int, default=min(8, os.cpu_count() or 1))
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    import torch
    from pytorch_fid.fid_score import calculate_fid_given_paths

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        note = point_both_tools_at_weights(scratch)
        first = write_images(scratch / "a", args.images, args.size, seed=1)
        second = write_images(scratch / "b", args.images, args.size, seed=2)
        print(note)

        start = time.perf_counter()
        extractor = load_extractor("pytorch-fid", device=device, batch_size=args.batch_size,
                                   workers=args.workers)
        ours = fid_from_features(extractor(first), extractor(second))
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        ours_s = time.perf_counter() - start

        start = time.perf_counter()
        with warnings.catch_warnings():  # pytorch-fid calls scipy sqrtm(disp=False)
            warnings.simplefilter("ignore", DeprecationWarning)
            peer = float(calculate_fid_given_paths([str(scratch / "a"), str(scratch / "b")],
                                                   args.batch_size, device, 2048, args.workers))
        peer_s = time.perf_counter() - start

    figures = {"benchmark": f"FID end to end, 2x{args.images} PNG {args.size}px",
               "device": device, "weights": note, "ours_s": ours_s, "peer_s": peer_s,
               "speedup": peer_s / ours_s, "ours_fid": ours, "peer_fid": peer,
               "abs_diff": abs(ours - peer)}
    print(f"FID end to end: 2 x {args.images} PNG images of {args.size}px on {device}, "
          f"batch {args.batch_size}, {args.workers} decode workers")
    print(f"  ours:        {ours_s:8.2f} s   FID {ours:.6f}")
    print(f"  pytorch-fid: {peer_s:8.2f} s   FID {peer:.6f}")
    print(f"  speed-up {peer_s / ours_s:.2f}x   |dFID| {abs(ours - peer):.2e}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
