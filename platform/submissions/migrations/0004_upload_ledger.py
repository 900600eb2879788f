from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('submissions', '0003_result_evidence'),
    ]

    operations = [
        migrations.CreateModel(
            name='UploadLedger',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
            ],
        ),
    ]
