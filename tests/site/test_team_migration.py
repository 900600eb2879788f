"""A database with submissions from before teams migrates in place: each goes to its owner's personal team.

The test database is taken back to the migration before submissions had a
team, rows are written through the models as they were then, and the
database is migrated forward (Django's ``MigrationExecutor``, as Django's own
migration tests do).
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.state import StateApps

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("submissions", "0005_results_and_uploads_apps")


def before_teams() -> list[tuple[str, str]]:
    """Every app at its latest migration but submissions, just before its submissions had a team."""
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    return [leaf for leaf in leaves if leaf[0] != BEFORE[0]] + [BEFORE]


def migrate(targets: list[tuple[str, str]] | None) -> StateApps:
    """Migrate to ``targets`` (every app's latest when None); the models as they are there."""
    executor = MigrationExecutor(connection)
    targets = targets or executor.loader.graph.leaf_nodes()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


def test_existing_submissions_go_to_their_owners_personal_teams() -> None:
    try:
        apps = migrate(before_teams())
        users = apps.get_model("auth", "User").objects
        ann, ben = users.create(username="ann"), users.create(username="ben")
        already = apps.get_model("teams", "Team").objects.create(name="ben", personal_for=ben)
        benchmark = apps.get_model("benchmarks", "Benchmark").objects.create(
            slug="oldbench", title="Old", task="classification", spec={})
        protocol = apps.get_model("benchmarks", "ProtocolVersion").objects.create(
            benchmark=benchmark, version=1, spec_hash="s" * 64, protocol_hash="p" * 64, spec={}, is_current=True)
        made = {owner.username: [apps.get_model("submissions", "Submission").objects.create(
            owner=owner, benchmark=benchmark, protocol=protocol, kind="predictions", method_name=f"{owner} {i}").pk
            for i in range(2)] for owner in (ann, ben)}
        apps = migrate(None)
        submissions = apps.get_model("submissions", "Submission").objects
        teams = apps.get_model("teams", "Team").objects
        assert {(row.pk, row.team.name, row.team.personal_for_id) for row in submissions.all()} == {
            *((pk, "ann", ann.pk) for pk in made["ann"]), *((pk, "ben", ben.pk) for pk in made["ben"])}
        assert teams.get(personal_for_id=ben.pk).pk == already.pk  # an existing personal team is reused
        assert teams.filter(personal_for_id=ann.pk).count() == 1
        assert not submissions.filter(chosen=True).exists()
        field = apps.get_model("submissions", "Submission")._meta.get_field("team")
        assert field.null is False
    finally:
        migrate(None)
