"""The demo's comment traffic reaches the real ingest API and gets verdicts."""

from __future__ import annotations

from django.contrib.auth.models import Group

import pytest

from accounts.actions import create_machine_client
from accounts.roles import MACHINE_PLATFORM
from moderation import actions
from moderation.comment_feed import CommentFeed
from moderation.gate import rules
from moderation.models import Comment, Stream

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_feed_posts_batches_on_live_streams(live_server, nginx_node, stream_key, admin):
    actions.import_terms("微信\tadvertising\tblock\n".encode(), actor=admin)
    rules.decide_publish(
        rules.PublishRequest(node=nginx_node, key_name=stream_key.issued_key, app="live", client_id="f-1")
    )
    Group.objects.get_or_create(name=MACHINE_PLATFORM)  # an earlier transactional test may have flushed it
    _client, token = create_machine_client("feed", kind=MACHINE_PLATFORM, actor=None)
    feed = CommentFeed(
        base_url=live_server.url,
        token=token,
        per_second=200,
        live_streams=lambda: list(Stream.objects.live().values_list("pk", flat=True)),
        log=lambda message: None,
    )
    outcomes = feed.post_once()
    assert sum(outcomes.values()) == 200 and outcomes.get("publish", 0) > 100 and "error" not in outcomes
    assert Comment.objects.count() == 200
    assert Comment.objects.filter(status=Comment.Status.BLOCKED).exists()
