"""Create the group of the platform's backend machine client (REST API tokens; not a staff role)."""

from django.db import migrations

MACHINE_GROUPS = ["platform_backend"]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in MACHINE_GROUPS:
        Group.objects.get_or_create(name=name)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=MACHINE_GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_roles"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
