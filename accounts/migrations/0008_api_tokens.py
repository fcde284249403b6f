"""API tokens of our own, stored hashed; DRF's plain-text tokens moved into them and deleted.

A moved key keeps working (its SHA-256 is stored, its first 12 characters are its prefix) with every
scope of its client's kind; the plain-text rows are then deleted. The move cannot be reversed:
nobody can read a key back from its digest.
"""

import hashlib

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


# Frozen here: the scopes each machine kind held when plain tokens were moved (accounts.roles at the time).
SCOPES_BY_KIND = {
    "platform_backend": [
        "publishers",
        "stream_keys",
        "verification",
        "registration_check",
        "news_applications",
        "comments",
        "reports",
        "appeals",
        "audiences",
    ],
    "review_service": ["snapshots"],
}


def move_plain_tokens(apps, schema_editor):
    Token = apps.get_model("authtoken", "Token")
    ApiToken = apps.get_model("accounts", "ApiToken")
    for token in Token.objects.select_related("user").iterator():
        kinds = set(token.user.groups.values_list("name", flat=True)) & set(SCOPES_BY_KIND)
        scopes = sorted({scope for kind in kinds for scope in SCOPES_BY_KIND[kind]})
        ApiToken.objects.create(
            client_id=token.user_id,
            prefix=token.key[:12],
            digest=hashlib.sha256(token.key.encode()).hexdigest(),
            scopes=scopes,
            created_at=token.created,
        )
    Token.objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0007_record_chain'),
        ('authtoken', '0004_alter_tokenproxy_options'),
    ]

    operations = [
        migrations.CreateModel(
            name='ApiToken',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('prefix', models.CharField(max_length=16, unique=True, verbose_name='prefix')),
                ('digest', models.CharField(max_length=64, verbose_name='SHA-256 of the key')),
                ('scopes', models.JSONField(blank=True, default=list, verbose_name='scopes')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created at')),
                ('expires_at', models.DateTimeField(blank=True, null=True, verbose_name='expires at')),
                ('revoked_at', models.DateTimeField(blank=True, null=True, verbose_name='revoked at')),
                ('last_used_at', models.DateTimeField(blank=True, null=True, verbose_name='last used at')),
                ('client', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='api_tokens', to=settings.AUTH_USER_MODEL, verbose_name='client')),
            ],
            options={
                'verbose_name': 'API token',
                'verbose_name_plural': 'API tokens',
                'ordering': ['client_id', '-created_at', '-id'],
            },
        ),
        migrations.RunPython(move_plain_tokens, migrations.RunPython.noop),
    ]
