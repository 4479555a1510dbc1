"""The table of Django's database cache (settings.CACHES without REDIS_URL), so `migrate` is the only
set-up step and no one needs to remember `createcachetable`. Created whatever the cache is today, so a
later switch from Redis to the database cache finds it."""

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

CACHE_TABLE = "tracker_cache"  # settings.CACHES["default"]["LOCATION"] for the database cache


def create_cache_table(apps, schema_editor):
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, CACHE_TABLE, dry_run=False)


def drop_cache_table(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(CACHE_TABLE)}")


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_cache_table, drop_cache_table),
    ]
