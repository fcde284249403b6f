"""Create the five staff roles as groups with their permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


# Frozen copy of accounts.roles.ROLE_PERMISSIONS as of this migration; later changes come as new
# migrations so that a fresh database always migrates.
ROLE_PERMISSIONS = {
    "patroller": [
        "moderation.view_stream",
        "moderation.view_publisher",
        "moderation.view_gatedecision",
        "moderation.view_moderationaction",
        "moderation.add_moderationaction",
    ],
    "news_reviewer": ["moderation.view_stream", "moderation.view_publisher"],
    "editor_in_chief": [
        "moderation.view_stream",
        "moderation.view_publisher",
        "moderation.view_moderationaction",
        "moderation.add_moderationaction",
    ],
    "compliance_admin": [
        "moderation.view_stream",
        "moderation.view_publisher",
        "moderation.change_publisher",
        "moderation.view_streamkey",
        "moderation.change_streamkey",
        "moderation.view_category",
        "moderation.change_category",
        "moderation.view_mediaserver",
        "moderation.view_gatedecision",
        "moderation.view_moderationaction",
        "moderation.add_moderationaction",
        "accounts.view_staffactionlog",
    ],
    "inspector": [
        "moderation.view_stream",
        "moderation.view_publisher",
        "moderation.view_gatedecision",
        "moderation.view_moderationaction",
        "accounts.view_staffactionlog",
    ],
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; make sure they exist now.
    for label in ("accounts", "moderation"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codes in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=str(role))
        permissions = []
        for code in codes:
            app_label, codename = code.split(".")
            permissions.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=[str(r) for r in ROLE_PERMISSIONS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("moderation", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
