"""The account that owns the bundled baselines exists from the first ``migrate``, unable to sign in.

Created here rather than on first use, so that on a new deployment nobody
can sign up under its name before the baselines are submitted; an account
of that name made earlier (possibly by a participant) loses its password,
its staff rights and its sign-in.
"""

from django.conf import settings
from django.db import migrations

from accounts.reserved import ensure_baseline_owner


def create_baseline_owner(apps, schema_editor):  # type: ignore[no-untyped-def]
    ensure_baseline_owner(apps.get_model(settings.AUTH_USER_MODEL))


class Migration(migrations.Migration):
    dependencies = [migrations.swappable_dependency(settings.AUTH_USER_MODEL)]

    operations = [migrations.RunPython(create_baseline_owner, migrations.RunPython.noop)]
