"""Who runs a benchmark's competition and who may enter it.

``BenchmarkHost`` names a benchmark's hosts (one owner, any co-organisers);
``Competition`` holds the hosts' settings (how entrants register, the terms
they accept); ``Registration`` records one team's request to enter. These are
the hosts' settings, never part of the protocol: changing them changes no hash.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from benchmarks.models import Benchmark
from teams.models import Team


class HostRole(models.TextChoices):
    OWNER = "owner", "owner"
    CO_ORGANISER = "co_organiser", "co-organiser"


class RegistrationMode(models.TextChoices):
    NONE = "none", "no registration"
    OPEN = "open", "open: registering approves at once"
    APPROVAL = "approval", "approval: a host approves each team"


class RegistrationState(models.TextChoices):
    PENDING = "pending", "pending"
    APPROVED = "approved", "approved"
    REFUSED = "refused", "refused"


class BenchmarkHost(models.Model):
    benchmark = models.ForeignKey(Benchmark, on_delete=models.CASCADE, related_name="hosts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hosted")
    role = models.CharField(max_length=20, choices=HostRole.choices, default=HostRole.CO_ORGANISER)
    added = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["benchmark", "added"]
        constraints = [
            models.UniqueConstraint(fields=["benchmark", "user"], name="one_host_row_per_user"),
            models.UniqueConstraint(fields=["benchmark"], condition=models.Q(role="owner"),
                                    name="one_owner_per_benchmark"),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) of {self.benchmark}"


class Competition(models.Model):
    benchmark = models.OneToOneField(Benchmark, on_delete=models.CASCADE, related_name="competition")
    registration = models.CharField(max_length=10, choices=RegistrationMode.choices, default=RegistrationMode.NONE)
    terms = models.TextField(blank=True, help_text="The terms an entrant accepts when registering")
    terms_version = models.PositiveIntegerField(default=1, help_text="Raised whenever the terms change")
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.benchmark} ({self.registration})"

    def save(self, *args: object, **kwargs: object) -> None:
        """A change of the terms text raises their version, so earlier acceptances no longer count."""
        if self.pk is not None:
            before = Competition.objects.filter(pk=self.pk).values_list("terms", flat=True).first()
            if before is not None and before != self.terms:
                self.terms_version += 1
        super().save(*args, **kwargs)


class Registration(models.Model):
    benchmark = models.ForeignKey(Benchmark, on_delete=models.CASCADE, related_name="registrations")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="registrations")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=10, choices=RegistrationState.choices, default=RegistrationState.PENDING)
    terms_version = models.PositiveIntegerField(default=0, help_text="The version of the terms accepted (0: none)")
    created = models.DateTimeField(auto_now_add=True)
    decided = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["benchmark", "created"]
        constraints = [models.UniqueConstraint(fields=["benchmark", "team"], name="one_registration_per_team")]

    def __str__(self) -> str:
        return f"{self.team} for {self.benchmark}: {self.state}"
