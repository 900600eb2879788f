"""The one vocabulary of submission kinds: what a participant (or a bundled baseline) hands in.

The site's ``Submission.kind`` choices and the evaluator's job dispatch are
both built from ``SubmissionKind``, so a new kind is one edit here.
"""

from __future__ import annotations

from enum import StrEnum


class SubmissionKind(StrEnum):
    IMAGE = "image"
    TARBALL = "tarball"
    PREDICTIONS = "predictions"
    LOCAL = "local"

    @property
    def label(self) -> str:
        return LABELS[self]

    @property
    def carries_file(self) -> bool:
        """An uploaded file (a predictions zip or a ``docker save`` tar) is the submission."""
        return self in (SubmissionKind.TARBALL, SubmissionKind.PREDICTIONS)


LABELS = {
    SubmissionKind.IMAGE: "Container image",
    SubmissionKind.TARBALL: "Container image tarball",
    SubmissionKind.PREDICTIONS: "Predictions archive",
    SubmissionKind.LOCAL: "Bundled baseline command",
}
# What participants may submit; ``local`` commands are for bundled baselines only.
PARTICIPANT_KINDS = (SubmissionKind.PREDICTIONS, SubmissionKind.IMAGE, SubmissionKind.TARBALL)
