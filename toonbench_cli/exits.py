"""The exit statuses of ``toonbench``, one per kind of outcome a script can act on."""

from __future__ import annotations

from toonbench_cli.client import ClientError

OK = 0
REFUSED = 1
USAGE = 2
FORBIDDEN = 3
NOT_FOUND = 4
UNAVAILABLE = 5
STILL_RUNNING = 6
INTERRUPTED = 130

EPILOG = """exit status:
  0    done; for status and --wait: the submission finished (or is still queued or running)
  1    the submission failed, timed out, ran out of memory or was cancelled; or the server
       refused the command (the message is its reason); or a local file is missing;
       or delete was not confirmed
  2    usage error (unknown option, missing argument)
  3    not signed in (run `toonbench login`) or not allowed to do that
  4    no such submission, benchmark or upload (or not visible to you)
  5    the server cannot be reached or failed (HTTP 5xx); try again later (an interrupted
       upload goes on where it stopped)
  6    --wait --timeout ran out while the submission was still in progress
  130  interrupted (Ctrl-C)

--json prints one JSON document on stdout and every message on stderr.
"""


class UsageError(ClientError):
    """Options that parse but do not make a command (``edit`` with nothing to change)."""


def exit_code(error: ClientError) -> int:
    """The exit status that says what kind of failure ``error`` is."""
    if isinstance(error, UsageError):
        return USAGE
    if error.unreachable or (error.status is not None and error.status >= 500):
        return UNAVAILABLE
    if error.status in (401, 403):
        return FORBIDDEN
    if error.status == 404:
        return NOT_FOUND
    return REFUSED
