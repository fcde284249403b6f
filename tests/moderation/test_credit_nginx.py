"""Credit at the real media server: a publisher whose level may not broadcast is refused by nginx-rtmp."""

from __future__ import annotations

import pytest

from moderation import actions
from moderation.models import GateDecision, ReasonCode, hash_stream_key
from tests.media import nginx_rtmp_fixture  # noqa: F401 (the nginx_rtmp fixture)
from tests.moderation.test_mediaservers_nginx import assert_refused_at_connect, go_live

pytestmark = pytest.mark.media_server


def test_a_publisher_lowered_to_a_level_that_may_not_broadcast_is_refused_and_dropped(
    nginx_rtmp, stream_key, patroller, admin
):
    publish, stream = go_live(nginx_rtmp, stream_key)
    actions.block_stream(stream, actor=patroller, reason=ReasonCode.PORNOGRAPHY)
    assert publish.wait(timeout=10) != 0, "the block did not cut ffmpeg"
    actions.lift_block(stream_key, actor=admin, note="冷却期由信用等级接管")
    # 100 - 15 (block) - 50 = 35: level E under the default policy, which may not broadcast.
    actions.adjust_credit(stream_key.publisher, actor=admin, points=-50, reason="色情内容，严重违规")

    publish_again = nginx_rtmp.publish(stream_key.issued_key)
    assert publish_again.wait(timeout=10) != 0, "nginx let a level-E publisher in"
    decision = GateDecision.objects.filter(key_hash=hash_stream_key(stream_key.issued_key)).latest("id")
    assert (decision.allowed, decision.reason, decision.detail) == (False, "credit_no_broadcast", "level E")


def test_refused_at_connect_when_the_level_may_not_broadcast(nginx_rtmp, stream_key, admin):
    actions.adjust_credit(stream_key.publisher, actor=admin, points=-70, reason="严重违规")
    assert_refused_at_connect(nginx_rtmp, stream_key.issued_key, GateDecision.Reason.CREDIT_LEVEL_MAY_NOT_BROADCAST)
