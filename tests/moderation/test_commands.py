"""Management commands: the demo seed and node registration."""

from __future__ import annotations

import re
from io import StringIO

from django.core.management import CommandError, call_command

import pytest

from accounts.models import StaffActionLog, User
from accounts.roles import Role
from moderation.models import (
    MediaServer,
    NewsApplication,
    PlatformLicence,
    Publisher,
    PublisherLicence,
    SensitiveTerm,
    StreamKey,
)

pytestmark = pytest.mark.django_db


def test_seed_demo_prints_logins_once_and_is_idempotent(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    first, second = StringIO(), StringIO()
    call_command("seed_demo", stdout=first)
    call_command("seed_demo", stdout=second)
    for role in Role.values:
        assert User.objects.get(groups__name=role)
    login_line = r"^\s+(patroller|reviewer|editor|compliance|inspector)\s+\S+\s+\(.+\)$"
    assert len(re.findall(login_line, first.getvalue(), re.M)) == 5
    assert "patroller" not in second.getvalue()
    assert Publisher.objects.count() == 26 and StreamKey.objects.count() == 26
    # The news demo: the platform's licence, three licensed news publishers, applications to decide.
    assert PlatformLicence.objects.count() == 1
    assert PublisherLicence.objects.filter(verification="verified").count() == 3
    assert NewsApplication.objects.filter(status__in=["submitted", "recommended"]).count() == 3
    assert Publisher.objects.filter(display_name="美食小当家", verification="verified").exists()
    assert (tmp_path / "simulator-node.json").exists()
    # The comment demo: a few sensitive terms, and the platform token the simulator's comments use.
    assert SensitiveTerm.objects.count() == 4 and (tmp_path / "demo-platform-token").exists()
    assert User.objects.count() == 6  # five staff, one platform-backend client


def test_seed_demo_moves_the_stand_in_node_to_this_checkouts_port(settings, tmp_path):
    """The run command finds the simulator a free port each start; the node follows it, secret kept."""
    import json

    settings.VAR_DIR = tmp_path
    call_command("seed_demo", simulator_control_port=18081, stdout=StringIO())
    first = json.loads((tmp_path / "simulator-node.json").read_text())
    call_command("seed_demo", simulator_control_port=18093, stdout=StringIO())

    node = MediaServer.objects.get(name="sim-1")
    assert (node.control_url, node.play_url) == ("http://127.0.0.1:18093/", "http://127.0.0.1:18093/frames")
    config = json.loads((tmp_path / "simulator-node.json").read_text())
    assert config == {**first, "control_port": 18093}
    assert node.secret_matches(config["secret"])
    moved = StaffActionLog.objects.get(verb="media_server.move", target_id=str(node.pk))
    assert moved.data["control_url"] == "http://127.0.0.1:18093/"


def test_demo_passwords_log_in(client, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    out = StringIO()
    call_command("seed_demo", stdout=out)
    password = re.search(r"^\s+patroller\s+(\S+)\s", out.getvalue(), re.M).group(1)
    assert client.login(username="patroller", password=password)


def test_register_media_server_prints_the_callbacks_once():
    out = StringIO()
    call_command("register_media_server", "edge-7", kind="nginx_rtmp", control_url="http://10.0.0.7:8080", stdout=out)
    node = MediaServer.objects.get(name="edge-7")
    secret = re.search(r"/gate/nginx-rtmp/edge-7/([^/]+)/on_publish\b", out.getvalue()).group(1)
    assert node.secret_matches(secret) and node.control_url == "http://10.0.0.7:8080/"
    assert StaffActionLog.objects.filter(verb="media_server.register", target_id=str(node.pk)).exists()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": "bad name", "kind": "srs", "control_url": "http://10.0.0.1/"},
        {"name": "edge-2", "kind": "srs", "control_url": "ftp://10.0.0.1/"},
    ],
)
def test_register_media_server_refuses_bad_input(kwargs):
    name = kwargs.pop("name")
    with pytest.raises(CommandError):
        call_command("register_media_server", name, **kwargs, stdout=StringIO())
    assert not MediaServer.objects.exists()
