"""``toonbench push BENCHMARK LOCAL_IMAGE``: push a local image to the platform registry, then submit it.

Logs the local Docker engine in to the registry the site advertises
(``/api/v1/registry/``) with your username and saved API token, tags the image
``<registry>/<username>/<name>:<tag>``, pushes it with the engine's
progress, and submits that reference (the site pins it to its digest).
``toonbench submit --image REF`` does the same for a reference that names
no registry but exists in the local engine. With ``--json`` the push's
progress stays on stderr and stdout gets the pushed reference, the digest the
site pinned it to and the submission's record.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

import docker
import docker.errors

from toonbench_cli.client import Client, ClientError
from toonbench_cli.output import emit_json, note, submission_record

IMAGE_ID = re.compile(r"^(?:sha256:)?[0-9a-f]{12,64}$")


def add_push_command(commands: Any, common: argparse.ArgumentParser) -> None:
    push = commands.add_parser("push", parents=[common],
                               help="push a local image to the platform registry and submit it")
    push.add_argument("slug", help="benchmark to submit to")
    push.add_argument("image", help="local image, e.g. mymodel:1 (as `docker images` lists it)")
    push.add_argument("--name", help="repository name under your namespace (default: the local image's name)")
    push.add_argument("--method", help="method name shown on the leaderboard (default: the image name)")
    push.add_argument("--description", default="")
    push.add_argument("--paper-url", default="")
    push.add_argument("--code-url", default="")
    push.add_argument("--private", action="store_true", help="keep it off the public leaderboard")
    push.add_argument("--json", action="store_true", help="print one JSON document (keys: docs/cli.md)")
    push.set_defaults(handler=cmd_push)


def names_registry(reference: str) -> bool:
    """Docker's rule: the first component is a host if it has a dot or a port, or is ``localhost``."""
    first, slash, _ = reference.partition("/")
    return bool(slash) and ("." in first or ":" in first or first == "localhost")


def split_tag(reference: str) -> tuple[str, str]:
    """(repository, tag) of a local reference; ``latest`` when it has none."""
    repository, _, tag = reference.rpartition(":")
    if not repository or "/" in tag:
        return reference, "latest"
    return repository, tag


def engine() -> Any:
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except docker.errors.DockerException as exc:
        raise ClientError(f"the local Docker engine does not answer ({exc}); start Docker first") from None
    return client


def in_local_engine(reference: str) -> bool:
    """Whether a registry-less reference is an image in the local engine (False without an engine)."""
    if names_registry(reference):
        return False
    try:
        engine().images.get(reference)
    except (ClientError, docker.errors.DockerException):
        return False
    return True


def registry_login(client: Client) -> tuple[str, str, dict[str, str]]:
    """(registry address, namespace, auth config) for the logged-in user."""
    info = client.get_json("registry/")
    if not info.get("username"):
        raise ClientError("pushing needs your API token; run `toonbench login` first", status=401)
    if not info.get("namespace"):
        raise ClientError(f"the username {info['username']!r} cannot name a registry namespace; ask an administrator")
    token = client.session.headers.get("Authorization", "").removeprefix("Token ")
    return str(info["address"]), str(info["namespace"]), {"username": str(info["username"]), "password": token}


def push_local_image(client: Client, local_image: str, name: str | None = None) -> str:
    """Tag and push ``local_image`` under the user's namespace; returns the pushed reference."""
    docker_client = engine()
    try:
        image = docker_client.images.get(local_image)
    except docker.errors.ImageNotFound:
        raise ClientError(f"{local_image}: no such image in the local Docker engine (see `docker images`)") from None
    if IMAGE_ID.match(local_image) and str(image.id).removeprefix("sha256:").startswith(
            local_image.removeprefix("sha256:")):
        raise ClientError(f"{local_image} is an image id, which has no name; name it first "
                          f"(docker tag {local_image} mymodel:1) and push that")
    address, namespace, auth = registry_login(client)
    repository, tag = split_tag(local_image)
    target = f"{address}/{namespace}/{name or repository.rsplit('/', 1)[-1]}"
    try:
        docker_client.login(username=auth["username"], password=auth["password"], registry=address, reauth=True)
    except docker.errors.APIError as exc:
        raise ClientError(f"docker login {address} failed: {exc.explanation or exc}") from None
    image.tag(target, tag)
    print(f"pushing {local_image} as {target}:{tag}", file=sys.stderr)
    digest = stream_push(docker_client, target, tag, auth)
    print(f"pushed {target}:{tag} ({digest})", file=sys.stderr)
    return f"{target}:{tag}"


def stream_push(docker_client: Any, repository: str, tag: str, auth: dict[str, str]) -> str:
    """``docker push`` through the engine API, one line per layer state; returns the pushed digest."""
    states: dict[str, str] = {}
    digest = ""
    for event in docker_client.api.push(repository, tag=tag, stream=True, decode=True, auth_config=auth):
        if "error" in event:
            raise ClientError(f"docker push {repository}:{tag} failed: {event['error']}")
        digest = str((event.get("aux") or {}).get("Digest") or digest)
        layer, status = str(event.get("id", "")), str(event.get("status", ""))
        if layer and status and states.get(layer) != status:
            states[layer] = status
            print(f"  {layer}: {status}", file=sys.stderr)
    return digest


def cmd_push(args: argparse.Namespace, client: Client, config: dict[str, Any]) -> int:
    reference = push_local_image(client, args.image, args.name)
    fields = {
        "benchmark": args.slug, "kind": "image", "image_ref": reference, "method_name": args.method or args.image,
        "description": args.description, "paper_url": args.paper_url, "code_url": args.code_url,
        "is_public": "false" if args.private else "true",
    }
    submission = client.submit(fields, None, lambda total: None, lambda read: None)
    if args.json:
        emit_json(push_record(reference, submission, client.server))
    else:
        print(f"submission #{submission['id']} {submission['status']}: {client.server}/submissions/{submission['id']}/")
    note(f"follow it with `toonbench status {submission['id']} --wait`")
    return 0


def push_record(reference: str, submission: dict[str, Any], server: str) -> dict[str, Any]:
    """``image``: the reference pushed; ``resolved_ref`` and ``digest``: what the site pinned it to, which is
    what the evaluator runs; ``submission``: its record."""
    resolved = submission.get("resolved_ref") or None
    return {
        "image": reference,
        "resolved_ref": resolved,
        "digest": resolved.rpartition("@")[2] if resolved and "@" in resolved else None,
        "submission": submission_record(submission, server),
    }


def reference_to_submit(client: Client, reference: str) -> str:
    """What ``submit --image`` sends: a registry-less image of the local engine is pushed first."""
    return push_local_image(client, reference) if in_local_engine(reference) else reference
