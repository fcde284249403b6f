"""Create the group of external capture / machine-review clients (REST API tokens; not a staff role)."""

from django.db import migrations

MACHINE_GROUPS = ["review_service"]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in MACHINE_GROUPS:
        Group.objects.get_or_create(name=name)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=MACHINE_GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_shift"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
