"""Odd input at the gate: refused as a malformed callback (400) or an unknown node (403), never 5xx or gate_error.

Both fronts parse through moderation/gate/protocols.py: the Django views (``client``) and the lean
ASGI front production serves (``call``, from test_gate_asgi). On PostgreSQL a NUL reaching a query
was a 500 or a gate_error; a trailing newline passed the `$` patterns and was stored.
"""

from __future__ import annotations

import json

import pytest

from moderation.models import GateDecision, Stream
from tests.conftest import NODE_SECRET
from tests.moderation.test_gate import latest_decision, on_publish, srs_body, srs_post
from tests.moderation.test_gate_asgi import FORM, call
from tests.moderation.test_registration_check import URL as REGISTRATION_URL
from tests.moderation.test_registration_check import asgi_post, entries, machine  # noqa: F401

Reason = GateDecision.Reason


def assert_refused(decision: GateDecision, reason: str, detail: str = "") -> None:
    assert not decision.allowed and decision.reason == reason, (decision.reason, decision.detail)
    assert detail in decision.detail
    assert not Stream.objects.exists()


# --- nginx-rtmp -----------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["name", "app", "clientid"])
def test_a_trailing_newline_in_a_key_app_or_client_id_is_a_malformed_callback(client, nginx_node, stream_key, field):
    form = {"name": stream_key.issued_key, "app": "live", "clientid": "17"}
    form[field] += "\n"
    response = on_publish(client, form.pop("name"), form.pop("clientid"), **form)
    assert response.status_code == 400
    assert_refused(latest_decision(), Reason.BAD_REQUEST, f"{field} missing or malformed")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("title", "今晚\x00直播", "title contains the control character U+0000"),
        ("title", "\x1b[31m红字", "title contains the control character U+001B"),
        ("title", "第一行\n第二行", "title must be a single line"),
        ("addr", "203.0.113.9\x07", "addr contains the control character U+0007"),
    ],
)
def test_control_characters_in_nginx_free_text_are_a_malformed_callback(
    client, nginx_node, stream_key, field, value, says
):
    response = on_publish(client, stream_key.issued_key, **{field: value})
    assert response.status_code == 400 and says in response.content.decode()
    assert_refused(latest_decision(), Reason.BAD_REQUEST, says)


# --- SRS ------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("action", [["on_publish"], {"on_publish": 1}, 1, None, "on_publish\n"])
def test_an_srs_action_that_is_not_one_of_the_two_strings_is_a_400(client, srs_node, stream_key, action):
    response = srs_post(client, srs_body(stream_key.issued_key, action=action))
    assert response.status_code == 400
    assert response.json()["reason"] == Reason.BAD_REQUEST
    assert_refused(latest_decision(), Reason.BAD_REQUEST, "action must be on_publish or on_unpublish")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({"param": "?title=%E5%A4%9C%00%E5%B8%82"}, "title contains the control character U+0000"),
        ({"param": "?title=\ud800"}, "param contains a lone surrogate (U+D800)"),
        ({"ip": "198.51.100.7\x00"}, "ip contains the control character U+0000"),
        ({"stream": "key\n"}, "stream missing or malformed"),
        ({"client_id": ["3p9n2k06"]}, "client_id must be a string"),
        ({"extra": {"k\x00": 1}}, "a key in extra contains the control character U+0000"),
    ],
)
def test_odd_srs_fields_are_a_400_not_a_gate_error(client, srs_node, stream_key, overrides, says):
    response = srs_post(client, srs_body(stream_key.issued_key, **overrides))
    assert response.status_code == 400, response.content
    assert says in response.json()["detail"]
    assert_refused(latest_decision(), Reason.BAD_REQUEST, says)


@pytest.mark.django_db
@pytest.mark.parametrize("depth", [33, 1000, 8000])  # 8000 levels still fit the gate's 16 KiB body limit
def test_a_deeply_nested_srs_body_is_a_400(client, srs_node, stream_key, depth):
    body = (
        json.dumps(srs_body(stream_key.issued_key))[:-1] + ', "extra": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"
    )
    response = srs_post(client, body)
    assert response.status_code == 400
    assert_refused(latest_decision(), Reason.BAD_REQUEST, "nested deeper than 32 levels")


@pytest.mark.django_db
@pytest.mark.parametrize("node", ["srs%00", "srs-1%0A", "s%1Brs"])
def test_an_odd_node_name_is_an_unknown_node_and_is_recorded_escaped(client, srs_node, stream_key, node):
    response = client.post(
        f"/gate/srs/{node}/{NODE_SECRET}/", json.dumps(srs_body(stream_key.issued_key)), content_type="application/json"
    )
    assert response.status_code == 403 and response.json()["reason"] == Reason.UNKNOWN_NODE
    decision = latest_decision()
    assert_refused(decision, Reason.UNKNOWN_NODE)
    assert decision.detail == repr(node.replace("%00", "\x00").replace("%0A", "\n").replace("%1B", "\x1b"))


# --- the lean ASGI front --------------------------------------------------------------------------


@pytest.fixture
def lean_gate():
    from moderation.gate import asgi

    yield
    asgi.shutdown()  # close the gate threads' connections before the test database goes


@pytest.mark.django_db(transaction=True)
def test_the_lean_front_answers_odd_input_as_the_views_do(srs_node, nginx_node, stream_key, lean_gate):
    srs = f"/gate/srs/srs-1/{NODE_SECRET}/"
    as_list = json.dumps(srs_body(stream_key.issued_key, action=["on_publish"])).encode()
    assert call(srs, as_list, content_type="application/json")[0] == 400
    deep = ("[" * 1000 + "]" * 1000).encode()
    assert call(srs, deep, content_type="application/json")[0] == 400
    titled = json.dumps(srs_body(stream_key.issued_key, param="?title=\ud800")).encode()
    assert call(srs, titled, content_type="application/json")[0] == 400
    status, _headers, body = call(f"/gate/srs/srs\x00/{NODE_SECRET}/", titled, content_type="application/json")
    assert status == 403 and json.loads(body)["reason"] == Reason.UNKNOWN_NODE
    nginx = f"/gate/nginx-rtmp/edge-1/{NODE_SECRET}/on_publish"
    trailing = f"app=live&name={stream_key.issued_key}%0A&clientid=31&call=publish".encode()
    assert call(nginx, trailing, content_type=FORM)[0] == 400
    assert not Stream.objects.exists()
    assert not GateDecision.objects.filter(reason=Reason.GATE_ERROR).exists()


@pytest.mark.django_db(transaction=True)
def test_the_lean_registration_check_refuses_deep_json_with_400_as_the_view_does(entries, lean_gate):  # noqa: F811
    client, token = machine()
    deep = ('{"phone": ' + "[" * 1000 + "]" * 1000 + "}").encode()
    status, content = asgi_post(deep, token=token)
    assert status == 400 and json.loads(content)["error"]["code"] == "parse_error"
    view = client.generic("POST", REGISTRATION_URL, deep, content_type="application/json")
    assert view.status_code == 400 and view.json()["error"]["code"] == "parse_error"
    nul = json.dumps({"phone": "139\x0012345678"}).encode()
    status, content = asgi_post(nul, token=token)
    view = client.generic("POST", REGISTRATION_URL, nul, content_type="application/json")
    assert status == view.status_code == 400
    assert json.loads(content) == view.json() and "phone" in view.json()["error"]["fields"]
