from django.db import migrations

from tracker.changelog import triggers


def install(apps, schema_editor):
    triggers.install(schema_editor.connection, tables=[triggers.TABLE])


def remove(apps, schema_editor):
    triggers.remove(schema_editor.connection, tables=[triggers.TABLE])


class Migration(migrations.Migration):
    dependencies = [("changelog", "0001_initial")]

    operations = [migrations.RunPython(install, remove)]
