"""Each media-server node authenticated on every gate callback: its secret, and its address allow-list."""

from __future__ import annotations

import json
from io import StringIO

from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

import pytest

from accounts.models import StaffActionLog
from moderation import actions
from moderation.gate import rules
from moderation.models import GateDecision, MediaServer, Stream
from tests.conftest import NODE_SECRET
from tests.moderation.test_gate import FORM, nginx_url, publish_form, statements

pytestmark = pytest.mark.django_db
Reason = GateDecision.Reason


def publish_from(client, key: str, address: str, **url):
    from urllib.parse import urlencode

    return client.post(
        nginx_url("on_publish", **url), urlencode(publish_form(key)), content_type=FORM, REMOTE_ADDR=address
    )


def limit(node: MediaServer, *networks: str) -> MediaServer:
    node = actions.set_media_server_networks(node, networks=list(networks), actor=None)
    rules.forget_cached_nodes()  # another process sees it within NODE_CACHE_SECONDS
    return node


def test_a_node_with_an_allow_list_is_admitted_from_its_network(client, nginx_node, stream_key):
    limit(nginx_node, "10.0.2.0/24")
    response = publish_from(client, stream_key.key, "10.0.2.21")
    assert response.status_code == 200, response.content
    assert Stream.objects.live().filter(key=stream_key).exists()


def test_the_right_secret_from_another_address_is_refused_and_recorded(client, nginx_node, stream_key):
    limit(nginx_node, "10.0.2.0/24", "192.0.2.7")
    response = publish_from(client, stream_key.key, "10.0.3.21")
    assert response.status_code == 403
    assert response.content == b"denied: node_address"
    assert not Stream.objects.exists()
    decision = GateDecision.objects.get()
    assert (decision.allowed, decision.reason, decision.addr) == (False, Reason.NODE_ADDRESS, "10.0.3.21")
    assert decision.detail == "edge-1 from 10.0.3.21"


def test_a_wrong_secret_from_an_allowed_address_is_still_refused(client, nginx_node, stream_key):
    limit(nginx_node, "10.0.2.0/24")
    response = publish_from(client, stream_key.key, "10.0.2.21", secret="not-the-secret")
    assert response.status_code == 403
    assert GateDecision.objects.get().reason == Reason.UNKNOWN_NODE  # no hint that the address was right


def test_a_callback_without_a_secret_opens_nothing(client, nginx_node, stream_key):
    from urllib.parse import urlencode

    for path in ("/gate/nginx-rtmp/edge-1/on_publish", "/gate/nginx-rtmp/edge-1//on_publish"):
        response = client.post(path, urlencode(publish_form(stream_key.key)), content_type=FORM)
        assert response.status_code in (403, 404)
    assert not Stream.objects.exists()


def test_an_ipv4_caller_on_a_dual_stack_listener_matches_its_ipv4_network(client, nginx_node, stream_key):
    limit(nginx_node, "10.0.2.21")
    assert publish_from(client, stream_key.key, "::ffff:10.0.2.21").status_code == 200


def test_an_ipv6_network_admits_its_addresses_only(client, nginx_node, stream_key):
    limit(nginx_node, "2001:db8:1::/48")
    assert publish_from(client, stream_key.key, "2001:db8:2::5").status_code == 403
    assert publish_from(client, stream_key.key, "2001:db8:1::5").status_code == 200


def test_an_unparsable_caller_address_fails_closed(client, nginx_node, stream_key):
    limit(nginx_node, "10.0.2.0/24")
    assert publish_from(client, stream_key.key, "").status_code == 403
    assert rules.authenticate_node("edge-1", NODE_SECRET, nginx_node.kind, "not-an-ip") == rules.ADDRESS_REFUSED
    assert rules.authenticate_node("edge-1", NODE_SECRET, nginx_node.kind) == rules.ADDRESS_REFUSED


def test_a_stored_allow_list_that_does_not_parse_admits_nobody(client, nginx_node, stream_key):
    MediaServer.objects.filter(pk=nginx_node.pk).update(allowed_networks=["10.0.2.0/24", "garbage"])
    rules.forget_cached_nodes()
    assert publish_from(client, stream_key.key, "10.0.2.21").status_code == 403
    MediaServer.objects.filter(pk=nginx_node.pk).update(allowed_networks="10.0.2.0/24")  # not a list
    rules.forget_cached_nodes()
    assert publish_from(client, stream_key.key, "10.0.2.21").status_code == 403


def test_an_empty_allow_list_admits_any_address_with_the_secret(client, nginx_node, stream_key):
    limit(nginx_node, "10.0.2.0/24")
    limit(nginx_node)
    assert publish_from(client, stream_key.key, "198.51.100.4").status_code == 200


def test_srs_callbacks_obey_the_allow_list(client, srs_node, stream_key):
    limit(srs_node, "10.0.9.0/24")
    body = json.dumps(
        {"action": "on_publish", "client_id": "c1", "ip": "203.0.113.9", "app": "live", "stream": stream_key.key}
    )
    url = f"/gate/srs/srs-1/{NODE_SECRET}/"
    refused = client.post(url, body, content_type="application/json", REMOTE_ADDR="10.0.8.1")
    assert refused.status_code == 403 and refused.json()["reason"] == Reason.NODE_ADDRESS
    admitted = client.post(url, body, content_type="application/json", REMOTE_ADDR="10.0.9.1")
    assert admitted.status_code == 200 and admitted.json() == {"code": 0}


def test_the_allow_list_costs_the_gate_no_query(nginx_node, stream_key):
    limit(nginx_node, "10.0.2.0/24", "2001:db8::/32")
    rules.authenticate_node("edge-1", NODE_SECRET, nginx_node.kind, "10.0.2.21")  # warm, as in a running server
    with CaptureQueriesContext(connection) as captured:
        for _ in range(3):
            node = rules.authenticate_node("edge-1", NODE_SECRET, nginx_node.kind, "10.0.2.21")
            assert isinstance(node, MediaServer)
            assert rules.authenticate_node("edge-1", NODE_SECRET, nginx_node.kind, "10.9.9.9") == rules.ADDRESS_REFUSED
    assert statements(captured) == []


def test_a_changed_allow_list_is_not_served_from_a_stale_node(nginx_node, stream_key):
    request = rules.PublishRequest(node=nginx_node, key_name=stream_key.key, app="live", client_id="1")
    actions.set_media_server_networks(nginx_node, networks=["10.0.2.0/24"], actor=None)
    assert rules.with_fresh_node(request) is None


# --- the actions and commands -------------------------------------------------------------------


def test_networks_are_normalised_and_logged(nginx_node, admin):
    node = actions.set_media_server_networks(
        nginx_node, networks=[" 10.0.2.7/24 ", "10.0.2.0/24", "2001:DB8::1"], actor=admin
    )
    assert node.allowed_networks == ["10.0.2.0/24", "2001:db8::1/128"]
    entry = StaffActionLog.objects.get(verb="media_server.set_networks")
    assert entry.actor == admin and entry.data == {"networks": node.allowed_networks, "previous": []}


@pytest.mark.parametrize("bad", ["10.0.2.300", "edge-1", "", "10.0.0.0/33"])
def test_a_bad_network_is_refused_and_changes_nothing(nginx_node, bad):
    limit(nginx_node, "10.0.2.0/24")
    with pytest.raises(actions.ModerationError) as refused:
        actions.set_media_server_networks(nginx_node, networks=["192.0.2.1", bad], actor=None)
    assert refused.value.code == "bad_field"
    nginx_node.refresh_from_db()
    assert nginx_node.allowed_networks == ["10.0.2.0/24"]
    with pytest.raises(actions.ModerationError):
        actions.register_media_server(
            "edge-9", kind="nginx_rtmp", control_url="http://10.0.0.9:8080/", allowed_networks=[bad]
        )
    assert not MediaServer.objects.filter(name="edge-9").exists()


def test_register_media_server_takes_the_allow_list(db):
    out = StringIO()
    call_command(
        "register_media_server",
        "edge-5",
        "--kind=nginx_rtmp",
        "--control-url=http://10.0.2.25:8080",
        "--allow-from=10.0.2.25",
        "--allow-from=10.0.3.0/24",
        stdout=out,
    )
    assert MediaServer.objects.get(name="edge-5").allowed_networks == ["10.0.2.25/32", "10.0.3.0/24"]
    assert "Callbacks accepted from: 10.0.2.25/32, 10.0.3.0/24" in out.getvalue()
    with pytest.raises(CommandError, match="not an IP address"):
        call_command(
            "register_media_server", "edge-6", "--kind=srs", "--control-url=http://10.0.0.6:8080", "--allow-from=x"
        )
    assert not MediaServer.objects.filter(name="edge-6").exists()


def test_node_access_shows_replaces_clears_and_rotates(client, nginx_node, stream_key):
    out = StringIO()
    call_command("node_access", "edge-1", stdout=out)
    assert "Callbacks accepted from: any address" in out.getvalue()
    call_command("node_access", "edge-1", "--allow-from=10.0.2.0/24", stdout=StringIO())
    nginx_node.refresh_from_db()
    assert nginx_node.allowed_networks == ["10.0.2.0/24"]
    call_command("node_access", "edge-1", "--any-address", stdout=StringIO())
    nginx_node.refresh_from_db()
    assert nginx_node.allowed_networks == []
    out = StringIO()
    call_command("node_access", "edge-1", "--rotate-secret", stdout=out)
    new_secret = out.getvalue().strip().splitlines()[-1].strip()
    rules.forget_cached_nodes()
    assert publish_from(client, stream_key.key, "127.0.0.1").status_code == 403  # the old secret
    assert publish_from(client, stream_key.key, "127.0.0.1", secret=new_secret).status_code == 200
    with pytest.raises(CommandError, match="no media-server node"):
        call_command("node_access", "edge-404")
    with pytest.raises(CommandError, match="not an IP address"):
        call_command("node_access", "edge-1", "--allow-from=nope")
