"""Benchmarks whose spec a host uploaded: where they came from, their build state, data folder and uploader."""
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('benchmarks', '0004_phases_and_moved_results'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='benchmark',
            name='build_message',
            field=models.CharField(blank=True, help_text='What the last build step said', max_length=500),
        ),
        migrations.AddField(
            model_name='benchmark',
            name='build_state',
            field=models.CharField(blank=True, choices=[('', 'not built here'), ('queued', 'queued'), ('building', 'building'), ('built', 'built'), ('failed', 'failed')], default='', max_length=20),
        ),
        migrations.AddField(
            model_name='benchmark',
            name='created_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='uploaded_benchmarks', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='benchmark',
            name='data_folder',
            field=models.CharField(blank=True, help_text="An uploaded benchmark's data, under the data root", max_length=500),
        ),
        migrations.AddField(
            model_name='benchmark',
            name='origin',
            field=models.CharField(choices=[('repository', 'repository spec file'), ('uploaded', 'uploaded by a host')], default='repository', max_length=20),
        ),
        migrations.AlterField(
            model_name='benchmark',
            name='is_active',
            field=models.BooleanField(default=True, help_text='False when its spec file is gone, or (uploaded) until a host publishes it'),
        ),
    ]
