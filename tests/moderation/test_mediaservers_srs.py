"""The SRS adapter and the gate's SRS hooks, against a stand-in that follows SRS's HTTP API."""

from __future__ import annotations

import json
import urllib.request

from django.test import override_settings

import pytest

from moderation import mediaservers
from moderation.mediaservers import (
    DropResult,
    MediaServerBadAnswer,
    MediaServerError,
    MediaServerHTTPError,
    MediaServerTimeout,
    MediaServerUnreachable,
    SrsApiError,
)
from moderation.models import GateDecision, MediaServer, Stream, StreamKey, hash_stream_key
from tests.media import wait_until
from tests.srs_standin import (
    SrsStandIn,
    srs_live_fixture,  # noqa: F401 (the srs_live fixture)
    srs_standin_fixture,  # noqa: F401 (the srs_standin fixture)
)


def live_stream_of(key: StreamKey) -> Stream | None:
    return Stream.objects.live().filter(key=key).first()


# --- through the gate (live_server) ----------------------------------------------------------


def test_publish_opens_a_stream_and_the_adapter_lists_it(srs_live, stream_key):
    standin, node = srs_live

    client_id = standin.publish(stream_key.issued_key, param="?title=今晚吃什么")

    assert client_id is not None
    stream = live_stream_of(stream_key)
    assert (stream.node, stream.client_id, stream.app) == (node, client_id, "live")
    assert stream.category == stream_key.category
    assert stream.title == "今晚吃什么"
    [session] = mediaservers.adapter_for(node).live_streams()
    assert (session.app, session.name, session.client_id) == ("live", stream_key.issued_key, client_id)
    assert session.viewers == 0 and session.bytes_in is not None


def test_drop_kicks_the_publisher_and_on_unpublish_closes_the_stream(srs_live, stream_key):
    standin, node = srs_live
    client_id = standin.publish(stream_key.issued_key)
    stream = live_stream_of(stream_key)

    result = mediaservers.adapter_for(node).drop(stream)

    assert result == DropResult(dropped=1)
    assert f"DELETE /api/v1/clients/{client_id}" in standin.api_requests
    assert client_id not in standin.streams
    wait_until(lambda: not live_stream_of(stream_key), message="on_unpublish to close the stream")
    stream.refresh_from_db()
    assert stream.end_reason == Stream.EndReason.UNPUBLISHED
    [unpublish] = wait_until(
        lambda: [call for call in standin.hook_calls if call.action == "on_unpublish"], message="the hook's answer"
    )
    assert unpublish.status == 200 and '"code": 0' in unpublish.answer
    assert mediaservers.adapter_for(node).live_streams() == []


def test_drop_of_a_stream_that_no_longer_publishes_drops_nothing(srs_live, stream_key):
    standin, node = srs_live
    client_id = standin.publish(stream_key.issued_key)
    stream = live_stream_of(stream_key)
    standin.unpublish(client_id)

    assert mediaservers.adapter_for(node).drop(stream) == DropResult(dropped=0)
    assert not any(request.startswith("DELETE") for request in standin.api_requests)


def test_denied_key_is_not_registered(srs_live, stream_key):
    standin, node = srs_live

    assert standin.publish("no-such-key") is None

    assert standin.streams == {}
    assert not Stream.objects.exists()
    [call] = standin.hook_calls
    assert call.action == "on_publish" and call.status == 403
    decision = GateDecision.objects.get(key_hash=hash_stream_key("no-such-key"))
    assert (decision.allowed, decision.reason, decision.node) == (False, GateDecision.Reason.UNKNOWN_KEY, node)
    assert mediaservers.adapter_for(node).live_streams() == []


# --- the adapter against a misbehaving node ----------------------------------------------------


@pytest.fixture
def standin_node(srs_standin: SrsStandIn, db) -> MediaServer:
    return MediaServer(name="srs-x", kind=MediaServer.Kind.SRS, control_url=srs_standin.url)


def a_stream_on(node: MediaServer, key: StreamKey, client_id: str = "k1", app: str = "live") -> Stream:
    # An unsaved stream is enough: the adapter reads only its client id, app and key.
    return Stream(key=key, published_name=key.issued_key, app=app, client_id=client_id, node=node)


def test_kicking_a_client_that_just_left_drops_nothing(srs_standin, standin_node, stream_key):
    client_id = srs_standin.publish(stream_key.issued_key)
    adapter = mediaservers.adapter_for(standin_node)
    # The client leaves between the check and the kick: SRS answers code 2049.
    original_kick = srs_standin.kick

    def leave_then_kick(client_id: str) -> dict:
        srs_standin.unpublish(client_id)
        return original_kick(client_id)

    srs_standin.kick = leave_then_kick

    assert adapter.drop(a_stream_on(standin_node, stream_key, client_id)) == DropResult(dropped=0)
    assert f"DELETE /api/v1/clients/{client_id}" in srs_standin.api_requests


def test_drop_kicks_its_own_client_when_the_key_publishes_under_two_apps(srs_standin, standin_node, stream_key):
    first = srs_standin.publish(stream_key.issued_key, app="live")
    second = srs_standin.publish(stream_key.issued_key, app="live2")
    adapter = mediaservers.adapter_for(standin_node)

    assert adapter.drop(a_stream_on(standin_node, stream_key, first, app="live")) == DropResult(dropped=1)

    assert list(srs_standin.streams) == [second]
    assert [request for request in srs_standin.api_requests if request.startswith("DELETE")] == [
        f"DELETE /api/v1/clients/{first}"
    ]


def test_drop_of_a_session_that_left_spares_the_next_publisher_of_the_key(srs_standin, standin_node, stream_key):
    earlier = srs_standin.publish(stream_key.issued_key)
    srs_standin.unpublish(earlier)
    later = srs_standin.publish(stream_key.issued_key)  # the same app and key, another connection

    result = mediaservers.adapter_for(standin_node).drop(a_stream_on(standin_node, stream_key, earlier))

    assert result == DropResult(dropped=0)
    assert list(srs_standin.streams) == [later]


def test_a_client_id_that_now_names_another_stream_is_not_kicked(srs_standin, standin_node, stream_key):
    other = srs_standin.publish("somebody-elses-key")

    result = mediaservers.adapter_for(standin_node).drop(a_stream_on(standin_node, stream_key, other))

    assert result == DropResult(dropped=0)
    assert other in srs_standin.streams
    assert not any(request.startswith("DELETE") for request in srs_standin.api_requests)


def test_standin_answers_a_client_like_srs(srs_standin, stream_key):
    client_id = srs_standin.publish(stream_key.issued_key, app="live2")
    with urllib.request.urlopen(f"{srs_standin.url}api/v1/clients/{client_id}", timeout=5) as response:
        document = json.loads(response.read())
    client = document["client"]
    assert document["code"] == 0
    assert (client["id"], client["url"], client["name"], client["publish"]) == (
        client_id,
        f"/live2/{stream_key.issued_key}",
        stream_key.issued_key,
        True,
    )


def test_standin_answers_an_unknown_client_like_srs(srs_standin):
    request = urllib.request.Request(f"{srs_standin.url}api/v1/clients/nobody", method="DELETE")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert (response.status, json.loads(response.read())) == (200, {"code": 2049})


@pytest.mark.parametrize("mode, error", [("http_500", MediaServerHTTPError), ("garbage", MediaServerBadAnswer)])
def test_a_node_answering_500_or_garbage_raises(srs_standin, standin_node, stream_key, mode, error):
    srs_standin.publish(stream_key.issued_key)
    srs_standin.mode = mode
    adapter = mediaservers.adapter_for(standin_node)

    with pytest.raises(error):
        adapter.live_streams()
    with pytest.raises(error):
        adapter.drop(a_stream_on(standin_node, stream_key))


@pytest.mark.parametrize(
    "document",
    [
        [],
        {"streams": []},
        {"code": 0},
        {"code": 0, "streams": {"id": "x"}},
        {"code": 0, "streams": [{"app": "live", "name": "k", "publish": {"active": True}}]},
    ],
)
def test_answers_not_shaped_like_srs_raise_bad_answer(srs_standin, standin_node, document):
    srs_standin.list_streams = lambda start, count: document

    with pytest.raises(MediaServerBadAnswer):
        mediaservers.adapter_for(standin_node).live_streams()


def test_an_srs_error_code_raises(srs_standin, standin_node):
    srs_standin.list_streams = lambda start, count: {"code": 1020, "streams": []}

    with pytest.raises(SrsApiError) as raised:
        mediaservers.adapter_for(standin_node).live_streams()
    assert raised.value.code == 1020 and isinstance(raised.value, MediaServerError)


@override_settings(LIVEWARD_MEDIA_SERVER_TIMEOUT=1)
def test_a_node_that_never_answers_times_out(srs_standin, standin_node):
    srs_standin.mode = "hang"

    with pytest.raises(MediaServerTimeout):
        mediaservers.adapter_for(standin_node).live_streams()


def test_a_closed_port_is_unreachable(db):
    node = MediaServer(name="srs-gone", kind=MediaServer.Kind.SRS, control_url="http://127.0.0.1:9/")

    with pytest.raises(MediaServerUnreachable):
        mediaservers.adapter_for(node).live_streams()


def test_streams_are_listed_across_pages(srs_standin, standin_node, stream_key, monkeypatch):
    monkeypatch.setattr(mediaservers.srs, "PAGE_SIZE", 2)
    for number in range(5):
        srs_standin.publish(f"key-{number}")

    names = sorted(session.name for session in mediaservers.adapter_for(standin_node).live_streams())

    assert names == [f"key-{number}" for number in range(5)]
    assert len([r for r in srs_standin.api_requests if r.startswith("GET")]) == 3


@pytest.mark.parametrize("control_url", ["http://127.0.0.1:{port}", "http://127.0.0.1:{port}/"])
def test_control_url_with_or_without_trailing_slash(srs_standin, control_url, db):
    port = srs_standin.url.rsplit(":", 1)[1].strip("/")
    node = MediaServer(name="srs-x", kind=MediaServer.Kind.SRS, control_url=control_url.format(port=port))

    assert mediaservers.adapter_for(node).live_streams() == []
    assert srs_standin.api_requests[-1].startswith("GET /api/v1/streams?")


def test_every_node_kind_has_an_adapter():
    for kind in MediaServer.Kind.values:
        assert mediaservers.adapter_for(MediaServer(name="n", kind=kind, control_url="http://127.0.0.1:9/"))
    with pytest.raises(MediaServerError):
        mediaservers.adapter_for(MediaServer(name="n", kind="wowza", control_url="http://127.0.0.1:9/"))


@pytest.mark.parametrize("control_url", ["ftp://127.0.0.1/", "http://127.0.0.1:99999/", "not a url"])
def test_a_bad_control_url_raises_media_server_error(control_url):
    node = MediaServer(name="n", kind=MediaServer.Kind.SRS, control_url=control_url)

    with pytest.raises(MediaServerError, match="control URL"):
        mediaservers.adapter_for(node).live_streams()
