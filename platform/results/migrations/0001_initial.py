"""Results, metric values and paired comparisons move here from submissions and leaderboards: the models'
state only, their tables stay as they are (``db_table``), with every row."""

import django.db.models.deletion
import results.models
from django.db import migrations, models

# model -> the app it came from
MOVED_FROM = {"result": "submissions", "metricvalue": "submissions", "pairedcomparison": "leaderboards"}


def move_content_types(forward: bool):  # noqa: ANN201 (a RunPython callable)
    """Point the content types (and so permissions and admin log entries) of the moved models at their app."""

    def run(apps, schema_editor) -> None:  # noqa: ANN001
        content_types = apps.get_model("contenttypes", "ContentType")
        for model, old_app in MOVED_FROM.items():
            source, target = (old_app, "results") if forward else ("results", old_app)
            if not content_types.objects.filter(app_label=target, model=model).exists():
                content_types.objects.filter(app_label=source, model=model).update(app_label=target)

    return run


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('benchmarks', '0002_task_from_registry'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('leaderboards', '0002_comparison_claims'),
        ('submissions', '0004_upload_ledger'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Result',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('protocol_hash', models.CharField(max_length=64)),
                        ('metrics', models.JSONField(help_text='metric name -> value (null where undefined)')),
                        ('ci95', models.JSONField(default=dict, help_text='metric name -> [low, high] 95% bootstrap interval')),
                        ('details', models.JSONField(default=dict, help_text='Curves, per-class numbers, confusion matrices')),
                        ('extractor_name', models.CharField(blank=True, max_length=100)),
                        ('extractor_weights_sha256', models.CharField(blank=True, max_length=64)),
                        ('comparable', models.BooleanField(default=True, help_text='False when non-standard weights made the numbers')),
                        ('evidence', models.FileField(blank=True, help_text='Per-item evidence (.npz, evaluator.evidence_store) for paired tests; derives from the test truth, so it is never served', max_length=300, upload_to=results.models.evidence_upload_path)),
                        ('created', models.DateTimeField(auto_now_add=True)),
                        ('submission', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='result', to='submissions.submission')),
                    ],
                    options={
                        'db_table': 'submissions_result',
                    },
                ),
                migrations.CreateModel(
                    name='PairedComparison',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('metric', models.CharField(max_length=64)),
                        ('state', models.CharField(choices=[('pending', 'pending'), ('done', 'done'), ('failed', 'failed')], default='pending', max_length=10)),
                        ('trigger', models.CharField(choices=[('result', 'a result was stored'), ('visibility', 'a visibility change')], default='result', max_length=10)),
                        ('difference', models.FloatField(null=True)),
                        ('low', models.FloatField(help_text='95% interval of the difference', null=True)),
                        ('high', models.FloatField(null=True)),
                        ('p_value', models.FloatField(help_text='two-sided; null unless the test is done', null=True)),
                        ('method', models.CharField(blank=True, help_text='bootstrap or jackknife', max_length=20)),
                        ('failure', models.CharField(blank=True, help_text='why the test could not be run', max_length=300)),
                        ('created', models.DateTimeField(auto_now_add=True, help_text='when the pair was first claimed')),
                        ('claimed_at', models.DateTimeField(help_text='when the current claim was made (stale ones are taken over)', null=True)),
                        ('finished_at', models.DateTimeField(db_index=True, null=True)),
                        ('first', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='results.result')),
                        ('second', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='results.result')),
                    ],
                    options={
                        'db_table': 'leaderboards_pairedcomparison',
                        'constraints': [models.UniqueConstraint(fields=('metric', 'first', 'second'), name='one_comparison_per_pair')],
                    },
                ),
                migrations.CreateModel(
                    name='MetricValue',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('name', models.CharField(max_length=64)),
                        ('value', models.FloatField(null=True)),
                        ('ci_low', models.FloatField(null=True)),
                        ('ci_high', models.FloatField(null=True)),
                        ('benchmark', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='metric_values', to='benchmarks.benchmark')),
                        ('protocol', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='metric_values', to='benchmarks.protocolversion')),
                        ('submission', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='metric_values', to='submissions.submission')),
                        ('result', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='values', to='results.result')),
                    ],
                    options={
                        'db_table': 'submissions_metricvalue',
                        'indexes': [models.Index(fields=['benchmark', 'name', 'value'], name='metric_rank'), models.Index(fields=['protocol', 'name', 'value'], name='metric_rank_protocol')],
                        'constraints': [models.UniqueConstraint(fields=('result', 'name'), name='one_value_per_metric')],
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_types(forward=True), move_content_types(forward=False)),
    ]
