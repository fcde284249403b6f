"""Blacklisting on the real thing: nginx-rtmp and ffmpeg, the gate, the drop."""

from __future__ import annotations

import pytest

from moderation import actions
from moderation.identity import Kind
from moderation.models import BlacklistClosure, ModerationAction, Publisher, ReasonCode, Stream
from tests.media import nginx_rtmp_fixture  # noqa: F401 (the nginx_rtmp fixture)
from tests.moderation.test_mediaservers_nginx import go_live

pytestmark = pytest.mark.media_server


def test_blacklisting_the_phone_cuts_the_live_publisher_and_the_key_cannot_come_back(nginx_rtmp, stream_key, admin):
    publish, stream = go_live(nginx_rtmp, stream_key)

    entry = actions.add_blacklist_entry(Kind.PHONE, "138 0013 8000", actor=admin, reason=ReasonCode.FRAUD)

    closure = BlacklistClosure.objects.select_related("action").get(entry=entry)
    assert closure.action.media_status == ModerationAction.MediaStatus.CONFIRMED
    assert publish.wait(timeout=10) != 0, "ffmpeg's connection was not cut"
    stream.refresh_from_db()
    assert stream.ended_at is not None and stream.end_reason == Stream.EndReason.CUT
    assert Publisher.objects.get(pk=stream_key.publisher_id).status == Publisher.Status.CLOSED

    again = nginx_rtmp.publish(stream_key.issued_key)
    assert again.wait(timeout=10) != 0, "the blacklisted publisher was let back in"
    assert not Stream.objects.live().filter(key=stream_key).exists()
