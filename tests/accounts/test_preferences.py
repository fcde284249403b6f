"""The console's look is kept for the account: its theme and the wall's density follow it to any
computer (POST /accounts/preferences/); a bad value is a 400 and changes nothing."""

from __future__ import annotations

from django.test import Client

import pytest

from accounts.models import User

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client(enforce_csrf_checks=False)
    client.force_login(user)
    return client


def test_the_theme_and_density_are_kept_and_come_with_every_page(patroller):
    client = logged_in(patroller)
    page = client.get("/accounts/shifts/").content.decode()
    assert "data-theme=" not in page.split(">", 2)[1] and "data-compact" not in page  # nothing chosen yet
    assert client.post("/accounts/preferences/", {"theme": "dark"}).status_code == 204
    assert client.post("/accounts/preferences/", {"compact": "1"}).status_code == 204
    assert (User.objects.get(pk=patroller.pk).console_theme, User.objects.get(pk=patroller.pk).wall_compact) == (
        "dark",
        True,
    )
    elsewhere = logged_in(patroller).get("/").content.decode()  # another computer, the same account
    html_tag = elsewhere[elsewhere.index("<html") : elsewhere.index(">", elsewhere.index("<html"))]
    assert 'data-theme="dark"' in html_tag and 'data-compact="1"' in html_tag
    assert client.post("/accounts/preferences/", {"theme": "light", "compact": "0"}).status_code == 204
    assert 'data-theme="light"' in client.get("/").content.decode()


@pytest.mark.parametrize(
    "form", [{}, {"theme": "purple"}, {"compact": "yes"}, {"theme": "dark", "compact": "2"}, {"theme": ""}]
)
def test_a_bad_preference_is_400_and_changes_nothing(patroller, form):
    response = logged_in(patroller).post("/accounts/preferences/", form)
    assert response.status_code == 400
    user = User.objects.get(pk=patroller.pk)
    assert (user.console_theme, user.wall_compact) == ("", None)


def test_preferences_need_a_login_and_a_post(client, patroller):
    assert client.post("/accounts/preferences/", {"theme": "dark"}).status_code in {302, 401, 403}
    assert logged_in(patroller).get("/accounts/preferences/").status_code == 405
    assert User.objects.get(pk=patroller.pk).console_theme == ""
