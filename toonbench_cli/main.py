"""``toonbench``: log in, list benchmarks, download protocols, submit, follow and manage your submissions,
read leaderboards.

Every command takes ``--server URL`` (default: ``$TOONBENCH_SERVER``, then
the saved config, then http://127.0.0.1:8000). Exit statuses: ``toonbench_cli.exits``.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from toonbench_cli import exits
from toonbench_cli.browse import add_browse_commands
from toonbench_cli.client import Client, ClientError
from toonbench_cli.config import load_config, save_config, server_url
from toonbench_cli.host import add_host_command
from toonbench_cli.init import add_init_command
from toonbench_cli.output import emit_json
from toonbench_cli.push import add_push_command
from toonbench_cli.submissions import add_submission_commands
from toonbench_cli.submit import add_submit_command


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already explained by argparse
        return int(exc.code or 0)
    if not getattr(args, "handler", None):
        parser.print_help()
        return exits.USAGE
    config = load_config()
    client = Client(server_url(args.server, config), token=config.get("token"))
    try:
        return int(args.handler(args, client, config) or 0)
    except ClientError as exc:
        print(f"toonbench: {exc}", file=sys.stderr)
        return exits.exit_code(exc)
    except KeyboardInterrupt:
        print("toonbench: interrupted", file=sys.stderr)
        return exits.INTERRUPTED


def build_parser() -> argparse.ArgumentParser:
    server_help = "server URL (default: $TOONBENCH_SERVER or the saved config)"
    # Accepted before or after the command; SUPPRESS keeps a command's parser from resetting it.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--server", default=argparse.SUPPRESS, help=server_help)
    parser = argparse.ArgumentParser(prog="toonbench", description="Client of a ToonBench benchmark server.",
                                     epilog=exits.EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--server", default=None, help=server_help)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    login = commands.add_parser("login", parents=[common], help="save the server and your API token")
    login.add_argument("--username", "-u")
    login.add_argument("--password", "-p", help="(prompted when missing)")
    login.add_argument("--token", help="an API token from the site's token page instead of a password")
    login.add_argument("--json", action="store_true", help="print one JSON document (keys: docs/cli.md)")
    login.set_defaults(handler=cmd_login)

    add_browse_commands(commands, common)
    add_submit_command(commands, common)
    add_push_command(commands, common)
    add_init_command(commands, common)
    add_submission_commands(commands, common)
    add_host_command(commands, common)
    return parser


def cmd_login(args: argparse.Namespace, client: Client, config: dict[str, Any]) -> int:
    """Save the token only once the server named its user: a mistyped token is refused, not kept."""
    token = args.token
    if not token:
        username = args.username or prompt("username: ")
        password = args.password or getpass.getpass("password: ")
        token = client.obtain_token(username, password)
    signed_in = Client(client.server, token=token).get_json("registry/").get("username")
    if not signed_in:
        raise ClientError(f"{client.server} did not accept the token; copy it again from the site's token page",
                          status=401)
    config.update({"server": client.server, "token": token})
    path = save_config(config)
    if args.json:
        emit_json({"server": client.server, "username": signed_in, "config": str(path)})
    else:
        print(f"logged in to {client.server} as {signed_in}; token saved in {path}")
    return 0


def prompt(question: str) -> str:
    """Ask on stderr, as getpass does, so that stdout keeps only what a script parses."""
    sys.stderr.write(question)
    sys.stderr.flush()
    return input()


if __name__ == "__main__":
    sys.exit(main())
