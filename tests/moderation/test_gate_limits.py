"""The gate's one check on request bodies (moderation/gate/limits.py)."""

from __future__ import annotations

import pytest

from moderation.gate import limits


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.LIVEWARD_GATE_MAX_BODY = 2048


def test_a_body_up_to_the_limit_is_accepted():
    assert limits.max_body_bytes() == 2048
    assert not limits.body_too_large(content_length=b"2048")
    assert not limits.body_too_large(content_length="2048", received=2048)


def test_a_body_over_the_limit_is_too_large_by_its_header_or_by_what_arrived():
    assert limits.body_too_large(content_length=b"2049")
    assert limits.body_too_large(content_length="2049")
    assert limits.body_too_large(received=2049)
    assert limits.body_too_large(content_length=b"10", received=2049)  # the header lied


@pytest.mark.parametrize("content_length", [b"", b"ten", "1e3", b"0x10"])
def test_a_content_length_that_is_not_a_number_counts_as_too_large(content_length):
    assert limits.body_too_large(content_length=content_length)


def test_without_a_content_length_the_bytes_received_decide():
    assert not limits.body_too_large()
    assert not limits.body_too_large(received=100)


def test_another_limit_may_be_given_for_requests_outside_the_gate():
    assert not limits.body_too_large(content_length=b"65536", limit=65536)
    assert limits.body_too_large(content_length=b"65537", limit=65536)
    assert limits.body_too_large(received=65537, limit=65536)
    assert not limits.body_too_large(received=4096, limit=65536)  # over the gate's 2048, within this one
    assert limits.body_too_large(content_length=b"lots", limit=65536)
