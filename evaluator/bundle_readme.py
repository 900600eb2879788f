"""The README.md of a protocol bundle, written from the spec, the built protocol and the task's words.

Everything that differs between task types (the task in a phrase, the split
lines, what ``/input`` holds, how outputs are compared) comes from the task's
entry in ``evaluator.tasks``.
"""

from __future__ import annotations

from datasets.build import BuiltBenchmark
from datasets.manifest import ManifestItem
from evaluator.contract import expected_outputs
from evaluator.tasks import task_of

SPLIT_WORDS = {
    True: "server split, keyed by a secret the server holds (its test truth cannot be rebuilt from this bundle)",
    False: "public development split (rebuilt by anyone from the spec's seeds, test truth included)",
}

def readme_text(built: BuiltBenchmark, inputs: list[ManifestItem]) -> str:
    spec = built.spec
    parts = [
        f"# {spec.title}\n",
        f"{spec.summary}\n" if spec.summary else "",
        _paper(built),
        "## Protocol\n",
        f"- benchmark: `{spec.slug}`, version {spec.version}, task: {task_of(spec).words.summary}",
        f"- profile: `{spec.profile}`, data: {built.source}",
        f"- protocol hash: `{built.protocol_hash}` (every result records it)",
        f"- spec hash: `{spec.spec_hash()}`",
        f"- split: {SPLIT_WORDS[built.keyed]}\n",
        "## Splits and sizes\n",
        _sizes(built, inputs),
        _parts(built, inputs),
        "## Files\n",
        _files(built),
        "## Metrics\n",
        _metrics(built),
        "## Submission container\n",
        _contract(built, inputs),
        "## Sandbox limits\n",
        _limits(built),
        "## Development split\n",
        _development_split(built),
        "## Scoring locally\n",
        _local_scoring(built),
        "## Submitting\n",
        _submitting(built),
    ]
    return "\n".join(part for part in parts if part) + "\n"


def _paper(built: BuiltBenchmark) -> str:
    paper = built.spec.paper
    if paper is None:
        return ""
    venue = f", {paper.venue}" if paper.venue else ""
    link = f" <{paper.url}>" if paper.url else ""
    return f"Protocol after *{paper.title}* ({paper.authors}{venue}).{link}\n"


def _sizes(built: BuiltBenchmark, inputs: list[ManifestItem]) -> str:
    return "\n".join(task_of(built.spec).readme_sizes(built, inputs)) + "\n"


def _parts(built: BuiltBenchmark, inputs: list[ManifestItem]) -> str:
    """The held-out parts and the phases scored on them; empty for a spec without parts or phases."""
    spec = built.spec
    if not spec.heldout_parts and not spec.phases:
        return ""
    lines = ["## Held-out parts and phases\n"]
    if spec.heldout_parts:
        shown = {item.part for item in inputs}
        lines += ["| part | share of the held-out split | inputs | in this bundle |", "| --- | --- | --- | --- |"]
        lines += [
            f"| `{part.name}` | {part.fraction:g} | {part.inputs.value} | "
            f"{sum(item.part == part.name for item in inputs) if part.name in shown else 'no'} |"
            for part in spec.heldout_parts
        ]
        lines.append(
            "\nA hidden part's images and truth are in no bundle and on no page: a phase on it takes container "
            "submissions only, which receive that part's images in `/input`. A public part takes predictions too; "
            "its test inputs carry `part` in `manifest.public.jsonl`.\n"
        )
    if spec.phases:
        lines += ["| phase | part | opens (UTC) | closes (UTC) | leaderboard | entry |",
                  "| --- | --- | --- | --- | --- | --- |"]
        lines += [
            f"| {phase.title} (`{phase.slug}`) | `{phase.split}` | {phase.opens:%Y-%m-%d %H:%M} | "
            f"{phase.closes:%Y-%m-%d %H:%M} | {phase.leaderboard.value} | {phase.entry.value} |"
            for phase in spec.phases
        ]
        lines.append("\nThese are the dates the spec declares; the benchmark's page shows the hosts' current ones.\n")
    return "\n".join(lines)


def _files(built: BuiltBenchmark) -> str:
    slug = built.spec.slug
    task = task_of(built.spec)
    item_fields = ", ".join(f"`{name}`" for name in task.item_fields)
    lines = [
        f"- `{slug}.yaml`: the benchmark spec",
        "- `manifest.public.jsonl`: one JSON object per line, sorted by id: training items with their truth "
        f"(`{task.truth_field}`); "
        "test inputs with `id`, `path`, `sha256`" + (f" and {item_fields}" if item_fields else ""),
        "- `container_manifest.json`: exactly the `/input/manifest.json` your container receives",
        "- `protocol.json`: slug, version, profile, source, hashes and `split` (`server` or `development`)",
    ]
    if built.source == "synthetic":
        lines.append("- `images/<id>.png`: the training images and the test inputs")
    else:
        lines.append(
            "- no images: the dataset is licensed. Build it from your own copy with "
            f"`python -m datasets build {slug} --source real --dev`"
        )
    return "\n".join(lines) + "\n"


def _metrics(built: BuiltBenchmark) -> str:
    lines = ["| metric | function | parameters | better | on leaderboard |", "| --- | --- | --- | --- | --- |"]
    for metric in built.spec.metrics:
        better = "higher" if metric.higher_is_better else "lower"
        shown = "yes" if metric.leaderboard else "no"
        lines.append(f"| `{metric.name}` | `{metric.fn}` | {_params_text(metric.params) or '-'} | {better} | {shown} |")
    rank = built.spec.rank_metric
    order = "descending" if rank.higher_is_better else "ascending"
    lines.append(
        f"\nThe leaderboard ranks by `{rank.name}` ({order}). Every leaderboard metric gets a seeded 95% interval "
        "(a bootstrap over test items; a grouped jackknife for FID and KID). Ties never help: a class or gallery "
        "image whose score ties the true one's counts as ranked above it. In identification each probe competes "
        "with the distractors and its own identity's one gallery image only, never with other probe identities."
    )
    return "\n".join(lines) + "\n"


def _contract(built: BuiltBenchmark, inputs: list[ManifestItem]) -> str:
    words = task_of(built.spec).words
    outputs = expected_outputs(built)
    return "\n".join([
        "The evaluator runs your image with two mounts and nothing else:\n",
        f"- `/input` (read-only): `manifest.json` listing {len(inputs)} items sorted by id (`id`, `path`), "
        f"{words.container_inputs}; and `images/<id>.png`. Never labels, identities, pairs or roles.",
        f"- `/output` (writable, at most {built.spec.limits.output_mb} MB): {outputs['description']}.",
        "",
        f"{words.scoring}\n",
        "Output is validated before scoring: missing or extra ids, wrong shape or dtype, NaN/Inf, "
        "unreadable or wrong-size images each fail the submission with the reason.\n",
    ])


def _limits(built: BuiltBenchmark) -> str:
    limits = built.spec.limits
    return "\n".join([
        f"- wall clock {limits.timeout_s} s, memory {limits.memory_gb:g} GB, {limits.cpus:g} CPUs, "
        f"{limits.pids} processes, {limits.gpus} GPU(s)",
        "- no network, read-only root file system with a small tmpfs `/tmp`, non-root user, all capabilities "
        "dropped, no new privileges",
        f"- output at most {limits.output_mb} MB, upload at most {limits.upload_mb} MB, "
        f"{limits.submissions_per_day} submissions per day\n",
    ])


def _local_scoring(built: BuiltBenchmark) -> str:
    slug, profile = built.spec.slug, built.spec.profile
    source = " --source real" if built.source == "real" else ""
    return "\n".join([
        "```sh",
        f"python -m datasets build {slug} --data ROOT --profile {profile}{source} --dev",
        f"python -m evaluator prepare {slug} input/ --data ROOT",
        "docker run --rm --network none -v $PWD/input:/input:ro -v $PWD/output:/output YOUR_IMAGE",
        f"python -m evaluator score {slug} output/ --data ROOT",
        "```",
        "",
        "`score` prints the development split's numbers: a check that the container works and a measure to "
        "compare your own methods by, never the leaderboard's numbers.",
    ])


def _submitting(built: BuiltBenchmark) -> str:
    """The registry commands; REGISTRY is the address the site's submit page (and `/api/registry/`) shows."""
    slug = built.spec.slug
    return "\n".join([
        "Push your image to the platform's registry, under your username, and submit it in one step:",
        "",
        "```sh",
        "toonbench login",
        f'toonbench push {slug} YOUR_IMAGE:1 --method "My method"',
        "```",
        "",
        "or with Docker itself (the password is your API token, from the site's token page), then submit the "
        "pushed reference on the submit page or with `toonbench submit --image`:",
        "",
        "```sh",
        "docker login REGISTRY -u USERNAME",
        "docker tag YOUR_IMAGE:1 REGISTRY/USERNAME/YOUR_IMAGE:1",
        "docker push REGISTRY/USERNAME/YOUR_IMAGE:1",
        f'toonbench submit {slug} --image REGISTRY/USERNAME/YOUR_IMAGE:1 --method "My method"',
        "```",
        "",
        "The reference is pinned to its digest when you submit: that digest is what runs and what the result "
        "records. References into another public or private registry work too; an image that names no "
        "registry, or another user's, is refused.\n",
    ])


def _development_split(built: BuiltBenchmark) -> str:
    """What a participant can rebuild, and why it is not the leaderboard's test set."""
    slug = built.spec.slug
    if built.keyed:
        return (
            f"`python -m datasets build {slug} --dev` rebuilds the public development split from the spec's "
            "seeds: training and test items with all their truth, to score locally. The leaderboard's split "
            "was built with a secret held by the server: its images, ids, truth and split share nothing with "
            "the development split, so the development split's protocol hash differs from the one above and "
            "its numbers are not the leaderboard's.\n"
        )
    return (
        "This protocol is itself the public development split (built without a server secret): "
        f"`python -m datasets build {slug} --dev` rebuilds it with the protocol hash above, test truth "
        "included. Numbers scored on it measure nothing held out.\n"
    )


def _params_text(params: dict) -> str:
    return ", ".join(f"{key}={value}" for key, value in sorted(params.items()))
