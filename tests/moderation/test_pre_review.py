"""Pre-review by credit level (Art. 15 with Art. 7's 先审后发): at a level that requires it, every
stream of the publisher needs an approved application covering now, whatever the category."""

from __future__ import annotations

import pytest

from moderation import actions
from moderation.actions.credit import LevelSpec
from moderation.models import GateDecision, ModerationAction
from tests.moderation.test_credit import live_stream, on_publish, publish_policy, refreshed
from tests.news_world import apply_for, approve

pytestmark = pytest.mark.django_db

LEVELS = [LevelSpec("A", "", 60), LevelSpec("D", "", 0, requires_pre_review=True)]


@pytest.fixture
def pre_review_policy(admin, entertainment, news, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return publish_policy(admin, levels=LEVELS)


def demote(publisher, admin):
    actions.adjust_credit(publisher, actor=admin, points=-50, reason="多次违规")
    publisher = refreshed(publisher)
    assert publisher.credit_level == "D"
    return publisher


def test_at_a_pre_review_level_an_entertainment_key_needs_an_approval(
    client, nginx_node, stream_key, admin, editor_in_chief, pre_review_policy
):
    assert on_publish(client, stream_key.issued_key, "1").status_code == 200  # level A: no pre-review
    demote(stream_key.publisher, admin)
    assert on_publish(client, stream_key.issued_key, "2").status_code == 403
    assert GateDecision.objects.latest("id").reason == GateDecision.Reason.NEWS_NOT_APPROVED
    # The platform applies for the entertainment key; the editor-in-chief approves without any news
    # licence being involved (none exists here); inside the window the key is let through.
    approve(apply_for(stream_key, title="周末美食直播"), editor_in_chief)
    assert on_publish(client, stream_key.issued_key, "3").status_code == 200


def test_without_a_pre_review_level_only_news_keys_take_applications(stream_key, pre_review_policy):
    with pytest.raises(actions.ModerationError) as refused:
        apply_for(stream_key)
    assert refused.value.code == "bad_field"


def test_the_audit_cuts_a_pre_review_publishers_stream_without_an_approval(
    client, nginx_node, stream_key, admin, pre_review_policy, django_capture_on_commit_callbacks
):
    stream = live_stream(client, stream_key)
    demote(stream_key.publisher, admin)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = actions.audit_news_licences()
    assert outcome["cut"] == 1
    cut = ModerationAction.objects.get(stream=stream, kind=ModerationAction.Kind.NEWS_CUT)
    assert cut.media_status in {ModerationAction.MediaStatus.PENDING, ModerationAction.MediaStatus.GONE}
