"""Chunked uploads and their ledger move here from submissions: the models' state only, their tables stay
as they are (``db_table``), with every row."""

import django.db.models.deletion
import uuid
from django.conf import settings
from django.db import migrations, models

# model -> the app it came from
MOVED_FROM = {"chunkedupload": "submissions", "uploadledger": "submissions"}


def move_content_types(forward: bool):  # noqa: ANN201 (a RunPython callable)
    """Point the content types (and so permissions and admin log entries) of the moved models at their app."""

    def run(apps, schema_editor) -> None:  # noqa: ANN001
        content_types = apps.get_model("contenttypes", "ContentType")
        for model, old_app in MOVED_FROM.items():
            source, target = (old_app, "uploads") if forward else ("uploads", old_app)
            if not content_types.objects.filter(app_label=target, model=model).exists():
                content_types.objects.filter(app_label=source, model=model).update(app_label=target)

    return run


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('benchmarks', '0002_task_from_registry'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('submissions', '0004_upload_ledger'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='UploadLedger',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ],
                    options={
                        'db_table': 'submissions_uploadledger',
                    },
                ),
                migrations.CreateModel(
                    name='ChunkedUpload',
                    fields=[
                        ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                        ('kind', models.CharField(choices=[('image', 'Container image'), ('tarball', 'Container image tarball'), ('predictions', 'Predictions archive'), ('local', 'Bundled baseline command')], max_length=20)),
                        ('filename', models.CharField(max_length=255)),
                        ('total_bytes', models.BigIntegerField()),
                        ('received_bytes', models.BigIntegerField(default=0)),
                        ('sha256', models.CharField(blank=True, help_text='Declared by the client, checked on completion', max_length=64)),
                        ('created', models.DateTimeField(auto_now_add=True)),
                        ('updated', models.DateTimeField(auto_now=True)),
                        ('completed_at', models.DateTimeField(blank=True, null=True)),
                        ('benchmark', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='uploads', to='benchmarks.benchmark')),
                        ('owner', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='uploads', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'submissions_chunkedupload',
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_types(forward=True), move_content_types(forward=False)),
    ]
