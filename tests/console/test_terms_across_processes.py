"""A term added in one process blocks the next comment in another (the console under uvicorn), no restart."""

from __future__ import annotations

import json
import urllib.request

import pytest

from accounts.actions import create_machine_client
from accounts.roles import MACHINE_PLATFORM
from moderation import actions
from moderation.gate import rules
from tests.browser import _asgi_server_process, asgi_server  # noqa: F401
from tests.media import wait_until

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def push(server, token: str, stream_id: int, comment_id: str, text: str) -> dict:
    body = {
        "comments": [
            {"stream": stream_id, "id": comment_id, "viewer_id": "v-1", "text": text, "viewer_phone_verified": True}
        ]
    }
    request = urllib.request.Request(
        f"{server.url}/api/v1/comments/",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())["results"][0]


def test_a_new_term_reaches_the_server_process_without_a_restart(asgi_server, admin, nginx_node, stream_key):  # noqa: F811
    outcome = rules.decide_publish(
        rules.PublishRequest(node=nginx_node, key_name=stream_key.issued_key, app="live", client_id="x-1")
    )
    _client, token = create_machine_client("platform-x", kind=MACHINE_PLATFORM, actor=None)
    assert push(asgi_server, token, outcome.stream_id, "x-0", "加我微信")["verdict"] == "publish"

    actions.add_term("微信", category="advertising", action="block", actor=admin)  # this process, committed
    counter = iter(range(1, 1000))
    verdict = wait_until(
        lambda: (
            (result := push(asgi_server, token, outcome.stream_id, f"x-{next(counter)}", "加 微-信"))["verdict"]
            == "block"
            and result
        ),
        timeout=20,
        message="the server process to pick up the new term list version",
    )
    assert verdict["terms"][0]["term"] == "微信"
