"""Benchmarks keep their spec's place in lists (``order``, filled by ``sync_benchmarks``) and are listed by it."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('benchmarks', '0002_task_from_registry'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='benchmark',
            options={'ordering': [models.OrderBy(models.F('order'), nulls_last=True), 'slug']},
        ),
        migrations.AddField(
            model_name='benchmark',
            name='order',
            field=models.PositiveIntegerField(blank=True, help_text="The spec's place in lists of benchmarks; those without one come last", null=True),
        ),
    ]
