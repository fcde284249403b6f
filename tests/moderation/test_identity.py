"""Identity normalisation, keyed hashing and masking (moderation/identity.py)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from moderation import identity
from moderation.identity import IdentityError, Kind

VALID_ID = "110105199001011232"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (VALID_ID, VALID_ID),
        ("11010519491231002x", "11010519491231002X"),  # lower-case x is upper-cased
        (" 110105 19900101 1232 ", VALID_ID),
        ("110105-19900101-1232", VALID_ID),
        ("110105900101123", "110105199001011232"),  # legacy 15 digits → 18 with the check digit
    ],
)
def test_resident_ids_normalise(raw, expected):
    assert identity.normalise_resident_id(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("110105199001011234", "check digit"),
        ("11010519900101123", "18 characters"),
        ("1101051990010112321", "18 characters"),
        ("11010519901301123X", "birth date"),  # month 13
        ("1101051990010112A2", "17 digits"),
        ("X10105199001011232", "17 digits"),
        ("110105991301123", "birth date"),
        ("", "18 characters"),
    ],
)
def test_malformed_resident_ids_are_refused_with_the_reason(raw, message):
    with pytest.raises(IdentityError, match=message):
        identity.normalise_resident_id(raw)


def test_check_digit_follows_gb_11643():
    # The standard's worked example: 11010519491231002 → X.
    assert identity.resident_id_check_digit("11010519491231002") == "X"
    assert identity.resident_id_check_digit("44052418800101001") == "4"


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "(138) 0013-8000",
        "+86 138 0013 8000",
        "+86-138-0013-8000",
        "+86 (138) 0013 8000",
        "0086 13800138000",
        "008613800138000",
        "8613800138000",
        "＋86 138.0013.8000",
        "  13800138000  ",
    ],
)
def test_chinese_mobiles_in_every_common_format_become_e164(raw):
    assert identity.normalise_phone(raw) == "+8613800138000"


def test_foreign_numbers_keep_their_country_code():
    assert identity.normalise_phone("+852 9123 4567") == "+85291234567"
    assert identity.normalise_phone("00852-9123-4567") == "+85291234567"
    assert identity.normalise_phone("+1 (415) 555-2671") == "+14155552671"


@pytest.mark.parametrize(
    "raw",
    ["", "call me", "1380013800", "138001380001", "12800138000", "+86 1280013800", "+86 023 1234 5678",
     "+0 123", "+1 23", "13800138000 ext 5", "++8613800138000"],
)  # fmt: skip
def test_malformed_phones_are_refused(raw):
    with pytest.raises(IdentityError):
        identity.normalise_phone(raw)


def test_devices_and_accounts():
    assert identity.normalise_device(" ABCD-1234-EF ") == "abcd-1234-ef"
    assert identity.normalise_account(" acct-1001 ") == "acct-1001"
    with pytest.raises(IdentityError):
        identity.normalise_device("a b")
    with pytest.raises(IdentityError):
        identity.normalise_device("abc")
    with pytest.raises(IdentityError):
        identity.normalise_account("has space")


def test_other_documents_carry_their_type():
    assert identity.normalise_document("e 1234-5678", document_type="passport") == "passport:E12345678"
    with pytest.raises(IdentityError):
        identity.normalise_document("#!", document_type="passport")


def test_the_hash_is_an_hmac_of_kind_and_normalised_value(settings):
    expected = hmac.new(
        settings.LIVEWARD_BLACKLIST_HASH_KEY.encode(), b"phone:+8613800138000", hashlib.sha256
    ).hexdigest()
    assert identity.hash_of(Kind.PHONE, "138 0013 8000") == expected
    assert identity.hash_of(Kind.PHONE, "+86 138-0013-8000") == expected
    # The same digits as another kind hash differently; another key hashes differently.
    assert identity.identity_hash(Kind.DEVICE, "+8613800138000") != expected
    settings.LIVEWARD_BLACKLIST_HASH_KEY = "another-key-" + "x" * 32
    assert identity.hash_of(Kind.PHONE, "13800138000") != expected


def test_a_rotation_key_wraps_the_hash(settings):
    before = identity.hash_of(Kind.PHONE, "13800138000")
    settings.LIVEWARD_BLACKLIST_HASH_KEY_ROTATIONS = ["rotation-key-" + "y" * 32]
    after = identity.hash_of(Kind.PHONE, "13800138000")
    assert after == identity.wrap_hash(before, ("rotation-key-" + "y" * 32).encode()) != before


def test_hash_or_blank_never_raises():
    assert identity.hash_or_blank(Kind.ID_DOCUMENT, "110105199001011234") == ""
    assert identity.hash_or_blank(Kind.PHONE, "") == ""
    assert len(identity.hash_or_blank(Kind.ID_DOCUMENT, VALID_ID)) == 64


def test_masks():
    assert identity.mask(Kind.ID_DOCUMENT, VALID_ID) == "110105********1232"
    assert identity.mask(Kind.PHONE, "+8613800138000") == "+86138****8000"
    assert identity.mask(Kind.DEVICE, "abcd-1234-ef56") == "abcd******ef56"
    # A passport number is too short to keep two characters at each end (this test asserted
    # passport:E1*****78 while the API starred the same number in full; the stricter rule stays).
    assert identity.mask(Kind.ID_DOCUMENT, "passport:E12345678") == "passport:*********"
    assert identity.mask(Kind.ID_DOCUMENT, "business_licence:91110105MA01234567") == (
        "business_licence:91**************67"
    )


@pytest.mark.parametrize(
    ("raw", "masked"),
    [("110105199001011234", "110105********1234"), ("", ""), ("12345", "*****"), ("E12345678", "*********")],
)
def test_document_masking(raw, masked):
    assert identity.mask_document_number(raw) == masked


def test_a_document_of_another_type_keeps_two_characters_at_each_end_when_long_enough():
    assert identity.mask_document_number("91110105MA01234567", document_type="business_licence") == (
        "91**************67"
    )
    assert identity.mask_document_number("E12345678", document_type="passport") == "*********"


def test_phone_masking():
    assert identity.mask_phone("+8613800138000") == "+86138****8000"
    assert identity.mask_phone("13800138000") == "138****8000"
    assert identity.mask_phone("1234") == "****"
    assert identity.mask_phone("+4915112345678") == "+491******5678"


def test_a_value_that_would_hide_fewer_than_four_characters_is_starred_in_full():
    assert identity.mask(Kind.DEVICE, "abcdefghijk") == "***********"
    assert identity.mask(Kind.DEVICE, "abcdefghijkl") == "abcd****ijkl"


def test_the_api_and_the_blacklist_mask_one_value_alike():
    assert identity.mask(Kind.ID_DOCUMENT, VALID_ID) == identity.mask_document_number(VALID_ID)
    assert identity.mask(Kind.PHONE, "+8613800138000") == identity.mask_phone("+8613800138000")


def test_names_keep_their_first_character():
    assert identity.mask_name("王小明") == "王**"
    assert identity.mask_name("") == ""
