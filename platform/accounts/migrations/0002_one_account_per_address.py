"""One account per e-mail address, in any case, held by the database as well as by the forms.

The sign-up and address-change forms refuse an address that another account
uses, but two requests can pass that check at once; this index makes the
later insert fail instead of making a second account with the address.
Accounts without an address (the baseline owner, accounts made in the admin)
are left out. A database where accounts already share an address stops here
and names them, to be settled in the admin before migrating again.
"""

from django.conf import settings
from django.db import migrations
from django.db.models import Count
from django.db.models.functions import Lower

INDEX = "accounts_one_account_per_address"


def shared_addresses(users) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """Lower-cased address -> the usernames that share it, for every address more than one account has."""
    shared = (users.objects.exclude(email="").annotate(address=Lower("email")).values("address")
              .annotate(accounts=Count("id")).filter(accounts__gt=1).values_list("address", flat=True))
    return {address: sorted(users.objects.filter(email__iexact=address).values_list("username", flat=True))
            for address in shared}


def create_index(apps, schema_editor):  # type: ignore[no-untyped-def]
    users = apps.get_model(settings.AUTH_USER_MODEL)
    if shared := shared_addresses(users):
        named = "; ".join(f"{address}: {', '.join(names)}" for address, names in sorted(shared.items()))
        raise RuntimeError(f"accounts share an e-mail address ({named}); give all but one of each another "
                           "address in the admin, then migrate again")
    quote = schema_editor.quote_name
    schema_editor.execute(f"CREATE UNIQUE INDEX {quote(INDEX)} ON {quote(users._meta.db_table)} "
                          f"(LOWER({quote('email')})) WHERE {quote('email')} <> ''")


def drop_index(apps, schema_editor):  # type: ignore[no-untyped-def]
    schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(INDEX)}")


class Migration(migrations.Migration):
    # After auth's last migration: on SQLite, altering a column remakes the table without indexes it does not know.
    dependencies = [("accounts", "0001_baseline_owner"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_index, drop_index)]
