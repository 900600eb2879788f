"""Paired comparisons now belong to the results app (``results`` 0001): the model leaves this app's state;
its table stays, with every row."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('leaderboards', '0002_comparison_claims'),
        ('results', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name='PairedComparison',
                ),
            ],
        ),
    ]
