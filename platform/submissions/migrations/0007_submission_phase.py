"""A submission enters a competition phase (none on a benchmark without phases); a team chooses one entry
per phase."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('benchmarks', '0004_phases_and_moved_results'),
        ('submissions', '0006_submission_team'),
        ('teams', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='submission',
            name='submission_one_chosen_entry',
        ),
        migrations.AddField(
            model_name='submission',
            name='phase',
            field=models.ForeignKey(blank=True, help_text='The competition phase it entered (empty on a benchmark without phases)', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='submissions', to='benchmarks.phase'),
        ),
        migrations.AlterField(
            model_name='submission',
            name='chosen',
            field=models.BooleanField(default=False, help_text="The team's chosen entry on this benchmark, protocol and phase (entry rule 'chosen')"),
        ),
        migrations.AddIndex(
            model_name='submission',
            index=models.Index(fields=['team', 'phase', 'created'], name='submission_team_phase_quota'),
        ),
        migrations.AddConstraint(
            model_name='submission',
            constraint=models.UniqueConstraint(condition=models.Q(('chosen', True), ('phase__isnull', True)), fields=('team', 'benchmark', 'protocol'), name='submission_one_chosen_entry'),
        ),
        migrations.AddConstraint(
            model_name='submission',
            constraint=models.UniqueConstraint(condition=models.Q(('chosen', True), ('phase__isnull', False)), fields=('team', 'phase', 'protocol'), name='submission_one_chosen_entry_per_phase'),
        ),
    ]
