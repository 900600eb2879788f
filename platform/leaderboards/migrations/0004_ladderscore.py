"""The score a ladder phase shows for each team."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('benchmarks', '0004_phases_and_moved_results'),
        ('leaderboards', '0003_pairedcomparison_to_results'),
        ('submissions', '0001_initial'),
        ('teams', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='LadderScore',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('score', models.FloatField(help_text="The shown score: the rank metric rounded to the phase's step")),
                ('updated', models.DateTimeField(auto_now=True)),
                ('phase', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='ladder_scores', to='benchmarks.phase')),
                ('submission', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='submissions.submission')),
                ('team', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='ladder_scores', to='teams.team')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('phase', 'team'), name='one_ladder_score_per_team')],
            },
        ),
    ]
