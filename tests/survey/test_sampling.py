"""The campaign sample (``survey.domain.sampling``): properties over random estates, and examples over a generated one."""

from __future__ import annotations

import math
import random
from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from survey.domain.sampling import (
    CHANNELS,
    DEFAULT_CHANNEL_MIX,
    SamplingError,
    channel_counts,
    draw_sample,
)

BUILDINGS = ("1", "2", "3", "5", "7")
TYPES = ("owner", "tenant", "vacant")
AGE_BANDS = ("18-35", "36-50", "51-65", "65+", None)


def _households(draw: Any, size: int) -> list[dict[str, Any]]:
    return [
        {
            "id": f"h{index:05d}",
            "building": draw(st.sampled_from(BUILDINGS)),
            "household_type": draw(st.sampled_from(TYPES)),
            "age_band": draw(st.sampled_from(AGE_BANDS)),
        }
        for index in range(size)
    ]


@st.composite
def estates(draw: Any) -> list[dict[str, Any]]:
    """An estate of 1 to 120 households with at least one occupied."""
    households = _households(draw, draw(st.integers(min_value=1, max_value=120)))
    households[0]["household_type"] = draw(st.sampled_from(("owner", "tenant")))
    return households


@st.composite
def mixes(draw: Any) -> dict[str, float]:
    """A channel mix that sums to 1."""
    online = draw(st.integers(min_value=0, max_value=100))
    offline = draw(st.integers(min_value=0, max_value=100 - online))
    return {"online": online / 100, "offline": offline / 100, "phone": (100 - online - offline) / 100}


rates = st.floats(min_value=0.10, max_value=1.0, allow_nan=False)
strata_choices = st.lists(st.sampled_from(("building", "household_type", "age_band")), unique=True, max_size=3)
seeds = st.integers(min_value=0, max_value=2**32)


def _key(household: dict[str, Any], strata: list[str]) -> tuple[tuple[str, str], ...]:
    return tuple((field, str(household[field] or "unknown")) for field in strata)


@settings(max_examples=150, deadline=None)
@given(estate=estates(), rate=rates, strata=strata_choices, mix=mixes(), seed=seeds)
def test_the_same_input_gives_the_same_sample_in_any_order(
    estate: list[dict[str, Any]], rate: float, strata: list[str], mix: dict[str, float], seed: int
) -> None:
    first = draw_sample(households=estate, sample_rate=rate, strata=strata, channel_mix=mix, seed=seed)
    shuffled = list(estate)
    random.Random(seed).shuffle(shuffled)
    again = draw_sample(households=shuffled, sample_rate=rate, strata=strata, channel_mix=mix, seed=seed)
    assert again == first


@settings(max_examples=150, deadline=None)
@given(estate=estates(), rate=rates, strata=strata_choices, mix=mixes(), seed=seeds)
def test_each_stratum_gets_its_share_rounded_up_and_never_more_than_it_has(
    estate: list[dict[str, Any]], rate: float, strata: list[str], mix: dict[str, float], seed: int
) -> None:
    sample = draw_sample(households=estate, sample_rate=rate, strata=strata, channel_mix=mix, seed=seed)
    occupied = [household for household in estate if household["household_type"] != "vacant"]
    sizes = Counter(_key(household, strata) for household in occupied)
    drawn = Counter(household.stratum for household in sample.households)
    assert {count.key: count.households for count in sample.strata} == dict(sizes)
    for key, size in sizes.items():
        assert math.ceil(rate * size - 1e-9) <= drawn[key] <= size
    assert sample.size >= rate * len(occupied) - 1e-9
    assert sum(count.sampled for count in sample.strata) == sample.size


@settings(max_examples=150, deadline=None)
@given(estate=estates(), rate=rates, strata=strata_choices, mix=mixes(), seed=seeds)
def test_never_a_vacant_household_and_never_one_twice(
    estate: list[dict[str, Any]], rate: float, strata: list[str], mix: dict[str, float], seed: int
) -> None:
    sample = draw_sample(households=estate, sample_rate=rate, strata=strata, channel_mix=mix, seed=seed)
    vacant = {household["id"] for household in estate if household["household_type"] == "vacant"}
    ids = [household.household_id for household in sample.households]
    assert len(ids) == len(set(ids))
    assert not vacant & set(ids)


@settings(max_examples=150, deadline=None)
@given(estate=estates(), rate=rates, strata=strata_choices, mix=mixes(), seed=seeds)
def test_the_channels_are_within_one_of_the_mix_and_sum_to_the_sample(
    estate: list[dict[str, Any]], rate: float, strata: list[str], mix: dict[str, float], seed: int
) -> None:
    sample = draw_sample(households=estate, sample_rate=rate, strata=strata, channel_mix=mix, seed=seed)
    used = Counter(household.channel for household in sample.households)
    assert sum(sample.channels.values()) == sample.size
    for channel in CHANNELS:
        assert used[channel] == sample.channels[channel]
        assert abs(used[channel] - mix[channel] * sample.size) < 1


@given(size=st.integers(min_value=0, max_value=10_000), mix=mixes())
def test_largest_remainder_counts_sum_to_the_size(size: int, mix: dict[str, float]) -> None:
    counts = channel_counts(size, mix)
    assert sum(counts.values()) == size
    assert all(abs(counts[channel] - mix[channel] * size) < 1 for channel in CHANNELS)


# examples over a generated estate ------------------------------------------------------------


@pytest.fixture
def estate() -> list[dict[str, Any]]:
    """An estate of 600 households over 6 buildings, about one in ten vacant."""
    generator = random.Random(2026)
    return [
        {
            "id": f"NS01-{building}-{room:03d}",
            "building": str(building),
            "household_type": generator.choices(("owner", "tenant", "vacant"), weights=(6, 3, 1))[0],
            "age_band": generator.choice(("18-35", "36-50", "51-65", "65+")),
        }
        for building in range(1, 7)
        for room in range(100)
    ]


def test_a_tenth_of_a_generated_estate_by_building_and_type(estate: list[dict[str, Any]]) -> None:
    sample = draw_sample(households=estate, sample_rate=0.1, strata=["building", "household_type"], seed=42)
    occupied = [household for household in estate if household["household_type"] != "vacant"]
    assert len(sample.strata) == 12  # 6 buildings * owner/tenant
    assert sample.size == sum(math.ceil(round(0.1 * count.households, 9)) for count in sample.strata)
    assert math.ceil(0.1 * len(occupied)) <= sample.size <= math.ceil(0.1 * len(occupied)) + len(sample.strata)
    assert sample.channels == channel_counts(sample.size, DEFAULT_CHANNEL_MIX)
    assert sample.channels["online"] > sample.channels["offline"] > sample.channels["phone"] > 0


def test_another_seed_draws_another_sample(estate: list[dict[str, Any]]) -> None:
    samples = {
        tuple(
            household.household_id
            for household in draw_sample(households=estate, sample_rate=0.1, strata=["building"], seed=seed).households
        )
        for seed in range(5)
    }
    assert len(samples) == 5


def test_without_strata_the_estate_is_one_stratum(estate: list[dict[str, Any]]) -> None:
    sample = draw_sample(households=estate, sample_rate=0.25, seed=7)
    occupied = sum(household["household_type"] != "vacant" for household in estate)
    assert [(count.key, count.households, count.sampled) for count in sample.strata] == [((), occupied, math.ceil(0.25 * occupied))]


def test_a_rate_of_ten_percent_of_thirty_samples_three_not_four() -> None:
    households = [{"id": f"h{index}", "building": "1", "household_type": "owner", "age_band": None} for index in range(30)]
    assert draw_sample(households=households, sample_rate=0.1, seed=1).size == 3


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"sample_rate": 0.09}, "sample_rate"),
        ({"sample_rate": 1.5}, "sample_rate"),
        ({"strata": ["floor"]}, "strata"),
        ({"channel_mix": {"online": 0.6, "offline": 0.3}}, "channel_mix"),
        ({"channel_mix": {"online": 0.5, "offline": 0.3, "phone": 0.1, "fax": 0.1}}, "channel_mix"),
        ({"channel_mix": {"online": 1.2, "offline": -0.2, "phone": 0.0}}, "channel_mix"),
    ],
)
def test_bad_input_is_refused_naming_the_field(estate: list[dict[str, Any]], arguments: dict[str, Any], field: str) -> None:
    with pytest.raises(SamplingError) as refused:
        draw_sample(households=estate, **{"sample_rate": 0.1, "seed": 1, **arguments})
    assert refused.value.field == field
    assert isinstance(refused.value, ValueError)


def test_an_estate_of_vacant_flats_only_has_nothing_to_sample() -> None:
    with pytest.raises(SamplingError) as refused:
        draw_sample(households=[{"id": "h1", "building": "1", "household_type": "vacant"}], sample_rate=0.5, seed=1)
    assert refused.value.field == "estate_id"
