"""Every submission belongs to a team: existing rows go to their owner's personal team (created here when
missing), then the column becomes required. A team may also mark one entry as its chosen one.

The migration is not atomic as a whole: on PostgreSQL the backfill must be committed before the column is
altered (its foreign-key checks are deferred to the end of a transaction), so the backfill runs in its own.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def backfill_personal_teams(apps, schema_editor):
    Submission = apps.get_model("submissions", "Submission")
    Team = apps.get_model("teams", "Team")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    owners = Submission.objects.filter(team__isnull=True).values_list("owner_id", flat=True).distinct()
    for owner in User.objects.filter(pk__in=list(owners)):
        team, _ = Team.objects.get_or_create(personal_for=owner, defaults={"name": owner.username})
        Submission.objects.filter(owner=owner, team__isnull=True).update(team=team)


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ('submissions', '0005_results_and_uploads_apps'),
        ('teams', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='submission',
            name='team',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.RESTRICT, related_name='submissions', to='teams.team'),
        ),
        migrations.RunPython(backfill_personal_teams, migrations.RunPython.noop, atomic=True),
        migrations.AlterField(
            model_name='submission',
            name='team',
            field=models.ForeignKey(help_text='The team the owner entered as when submitting: quotas and leaderboard rows count per team', on_delete=django.db.models.deletion.RESTRICT, related_name='submissions', to='teams.team'),
        ),
        migrations.AddField(
            model_name='submission',
            name='chosen',
            field=models.BooleanField(default=False, help_text="The team's chosen entry on this benchmark and protocol (entry rule 'chosen')"),
        ),
        migrations.AddIndex(
            model_name='submission',
            index=models.Index(fields=['team', 'benchmark', 'created'], name='submission_team_quota'),
        ),
        migrations.AddConstraint(
            model_name='submission',
            constraint=models.UniqueConstraint(condition=models.Q(('chosen', True)), fields=('team', 'benchmark', 'protocol'), name='submission_one_chosen_entry'),
        ),
    ]
