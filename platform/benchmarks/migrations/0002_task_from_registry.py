from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("benchmarks", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="benchmark",
            name="task",
            field=models.CharField(help_text="A registered task type (evaluator.tasks)", max_length=40),
        ),
    ]
