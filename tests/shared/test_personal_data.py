"""Phones in one form, and the contact sealed for notification only."""

from __future__ import annotations

import pytest

from propcare_shared.phones import InvalidPhone, normalise_phone
from propcare_shared.sealing import Sealer, UnreadableSeal, new_key


@pytest.mark.parametrize("written", ["13800138000", "+8613800138000", "86-13800138000", "0086 138 0013 8000", "+86 138-0013-8000"])
def test_every_way_of_writing_a_chinese_mobile_is_one_phone(written: str) -> None:
    assert normalise_phone(written) == "+8613800138000"


def test_a_hong_kong_number_keeps_its_country() -> None:
    assert normalise_phone("+852 9123 4567") == "+85291234567"


@pytest.mark.parametrize("written", ["12345", "abc", "", "+86 138"])
def test_what_is_not_a_phone_is_refused(written: str) -> None:
    with pytest.raises(InvalidPhone):
        normalise_phone(written)


def test_a_sealed_contact_opens_with_its_key_and_shows_nothing_in_clear() -> None:
    sealer = Sealer([new_key()])
    sealed = sealer.seal({"name": "王女士", "phone": "+8613800138000"})
    assert "13800138000" not in sealed and "王" not in sealed
    assert sealer.open(sealed) == {"name": "王女士", "phone": "+8613800138000"}


def test_rotation_opens_old_seals_and_seals_with_the_new_key() -> None:
    old, new = new_key(), new_key()
    sealed_before = Sealer([old]).seal({"phone": "+8613800138000"})
    rotated = Sealer([new, old])
    assert rotated.open(sealed_before) == {"phone": "+8613800138000"}
    sealed_after = rotated.seal({"phone": "+8613900139000"})
    assert Sealer([new]).open(sealed_after) == {"phone": "+8613900139000"}
    with pytest.raises(UnreadableSeal):
        Sealer([old]).open(sealed_after)


def test_a_tampered_seal_is_unreadable() -> None:
    sealer = Sealer([new_key()])
    sealed = sealer.seal({"phone": "+8613800138000"})
    with pytest.raises(UnreadableSeal):
        sealer.open(sealed[:-4] + "AAAA")
