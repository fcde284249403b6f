"""A news world for tests: the platform's licence, a licensed news publisher, its key, applications.

Import the fixtures a module needs: ``from tests.news_world import news_key, platform_licence  # noqa: F401``.
Everything is set up through actions.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

import pytest

from accounts.actions import create_machine_client
from accounts.roles import MACHINE_PLATFORM
from moderation import actions
from moderation.models import LicenceScope, NewsApplication
from tests.conftest import make_publisher


def days(n: int):
    return timezone.localdate() + timedelta(days=n)


@pytest.fixture
def platform_client_user(db):
    user, _token = create_machine_client("platform-backend", kind=MACHINE_PLATFORM, actor=None)
    return user


@pytest.fixture
def platform_licence(admin):
    return actions.record_platform_licence(
        "京网新许字-0001",
        scopes=[LicenceScope.GATHERING, LicenceScope.REPOSTING, LicenceScope.PLATFORM],
        valid_from=days(-365),
        valid_until=days(700),
        actor=admin,
    )


@pytest.fixture
def news_publisher(agreement, admin):
    publisher = make_publisher("acct-news-1", "财经观察")
    licence = actions.submit_publisher_licence(
        publisher,
        number="京新许-A-0099",
        scopes=[LicenceScope.GATHERING, LicenceScope.REPOSTING],
        valid_from=days(-100),
        valid_until=days(400),
        scan=b"%PDF-1.4 licence scan",
        actor=None,
    )
    actions.verify_publisher_licence(licence, actor=admin, verified=True)
    publisher.licence = licence
    return publisher


@pytest.fixture
def news_key(news_publisher, news):
    return actions.issue_stream_key(news_publisher, category=news, default_title="财经早报直播")


def apply_for(key, *, start_in=timedelta(minutes=-1), length=timedelta(hours=1), origin="original", sources=None,
              title="财经早报：央行降准解读", actor=None):  # fmt: skip
    now = timezone.now()
    return actions.submit_news_application(
        key.publisher,
        stream_key=key,
        title=title,
        outline="解读本周货币政策，连线两位经济学家。",
        window_start=now + start_in,
        window_end=now + start_in + length,
        origin=origin,
        sources=sources,
        actor=actor,
    )


def approve(application, editor) -> NewsApplication:
    return actions.decide_news_application(application, kind="approve", actor=editor, note="同意")


@pytest.fixture
def approved_now(news_key, platform_licence, editor_in_chief):
    """An approved application whose window covers now for ``news_key``."""
    return approve(apply_for(news_key), editor_in_chief)
