"""Results and metric values now belong to the results app, chunked uploads and their ledger to the uploads
app (their 0001 migrations): the models leave this app's state; their tables stay, with every row."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('leaderboards', '0003_pairedcomparison_to_results'),
        ('results', '0001_initial'),
        ('submissions', '0004_upload_ledger'),
        ('uploads', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name='MetricValue',
                ),
                migrations.DeleteModel(
                    name='Result',
                ),
                migrations.DeleteModel(
                    name='ChunkedUpload',
                ),
                migrations.DeleteModel(
                    name='UploadLedger',
                ),
            ],
        ),
    ]
