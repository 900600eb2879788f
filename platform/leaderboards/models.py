"""The score a ladder leaderboard shows for each team in a phase (``leaderboards.ladder``)."""

from __future__ import annotations

from django.db import models

from benchmarks.models import Phase
from submissions.models import Submission
from teams.models import Team


class LadderScore(models.Model):
    """A team's shown score on a ladder phase, and the submission that last raised it."""

    phase = models.ForeignKey(Phase, on_delete=models.CASCADE, related_name="ladder_scores")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="ladder_scores")
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(help_text="The shown score: the rank metric rounded to the phase's step")
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["phase", "team"], name="one_ladder_score_per_team")]

    def __str__(self) -> str:
        return f"{self.phase} {self.team}: {self.score}"
