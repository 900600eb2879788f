"""Competition phases (the hosts own their settings once synced), and where a version's results moved."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('benchmarks', '0003_benchmark_order'),
    ]

    operations = [
        migrations.AddField(
            model_name='protocolversion',
            name='moved_note',
            field=models.CharField(blank=True, help_text='When and why the results moved', max_length=300),
        ),
        migrations.AddField(
            model_name='protocolversion',
            name='results_moved_to',
            field=models.ForeignKey(blank=True, help_text="The version this one's submissions and results were moved to: the same data and truth under a new spec hash", null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='results_moved_from', to='benchmarks.protocolversion'),
        ),
        migrations.CreateModel(
            name='Phase',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('slug', models.SlugField()),
                ('title', models.CharField(max_length=200)),
                ('split', models.CharField(help_text='The held-out part this phase scores (from the spec)', max_length=50)),
                ('opens', models.DateTimeField()),
                ('closes', models.DateTimeField()),
                ('submissions_per_day', models.PositiveIntegerField(blank=True, help_text='Per team; empty: no limit', null=True)),
                ('submissions_total', models.PositiveIntegerField(blank=True, help_text='Per team; empty: no limit', null=True)),
                ('leaderboard', models.CharField(choices=[('public', 'public'), ('hidden_until_close', 'hidden until close'), ('private', 'private'), ('ladder', 'ladder')], default='public', max_length=20)),
                ('entry', models.CharField(choices=[('best', 'best'), ('latest', 'latest'), ('chosen', 'chosen')], default='best', max_length=10)),
                ('ladder_step', models.FloatField(default=0.01, help_text="The Ladder's step (leaderboard: ladder)")),
                ('revealed_at', models.DateTimeField(blank=True, help_text='When a host showed a hidden-until-close leaderboard before its close', null=True)),
                ('updated', models.DateTimeField(auto_now=True)),
                ('benchmark', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='phases', to='benchmarks.benchmark')),
            ],
            options={
                'ordering': ['benchmark', 'opens', 'slug'],
                'constraints': [models.UniqueConstraint(fields=('benchmark', 'slug'), name='unique_phase_per_benchmark')],
            },
        ),
    ]
