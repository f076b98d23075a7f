"""Drawing a satisfaction campaign's sample (docs/PRODUCT.md §9.2, docs/SURVEYS.md).

Pure: plain values in, plain values out, no clock, no database. Guarantees:

- **Never vacant, never twice.** Vacant households are dropped before anything else; each occupied
  household is drawn at most once.
- **Reproducible.** The households are sorted by id and each stratum is drawn with one
  ``random.Random(seed)`` in a fixed order (strata sorted by key), so the same households, strata,
  rate, mix and seed give the same sample and channels whatever order the households came in.
- **Proportional, rounded up.** Each stratum of ``n`` occupied households gets
  ``min(n, ceil(rate * n))`` of them, so every stratum gets at least its share and the total is at
  least ``ceil(rate * occupied)`` (the sum of ceilings is at least the ceiling of the sum). Rounding
  up costs at most one household per stratum.
- **The channel mix.** The sample is split across ``online``, ``offline`` and ``phone`` by
  largest-remainder rounding of ``mix * sample size``: each channel gets the floor of its target, and
  the households left over go to the channels with the largest remainders (ties in the order online,
  offline, phone). Every channel is within one of its target and the counts sum to the sample size.
  Which household gets which channel is itself drawn from the same generator.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

MINIMUM_SAMPLE_RATE = 0.10
STRATUM_FIELDS = ("building", "household_type", "age_band")
CHANNELS = ("online", "offline", "phone")
DEFAULT_CHANNEL_MIX: Mapping[str, float] = {"online": 0.6, "offline": 0.3, "phone": 0.1}
MIX_TOLERANCE = 1e-9
VACANT = "vacant"
# A household without an age band is its own stratum rather than being dropped.
UNKNOWN = "unknown"


class SamplingError(ValueError):
    """A sample that cannot be drawn as asked; ``field`` names the input at fault (for a 422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class SampledHousehold:
    """One household in the sample, with its stratum key and the channel it is invited through."""

    household_id: str
    stratum: tuple[tuple[str, str], ...]
    channel: str


@dataclass(frozen=True)
class StratumCount:
    """A stratum's size (occupied households) and how many of them were sampled."""

    key: tuple[tuple[str, str], ...]
    households: int
    sampled: int


@dataclass(frozen=True)
class Sample:
    """A drawn sample: the households (sorted by id), the strata (sorted by key) and the channel counts."""

    households: tuple[SampledHousehold, ...]
    strata: tuple[StratumCount, ...]
    channels: Mapping[str, int]

    @property
    def size(self) -> int:
        """Return how many households were sampled."""
        return len(self.households)


def validate_rate(sample_rate: float) -> float:
    """Return the rate, or raise ``SamplingError`` when it is below 10% or above 100%."""
    if not MINIMUM_SAMPLE_RATE <= sample_rate <= 1:
        raise SamplingError("sample_rate", f"Must be between {MINIMUM_SAMPLE_RATE} and 1.")
    return sample_rate


def validate_strata(strata: Iterable[str]) -> tuple[str, ...]:
    """Return the strata fields without repeats, or raise ``SamplingError`` on an unknown field."""
    fields = tuple(dict.fromkeys(strata))
    unknown = [field for field in fields if field not in STRATUM_FIELDS]
    if unknown:
        raise SamplingError("strata", f"Unknown field(s) {', '.join(map(str, unknown))}; must be any of {', '.join(STRATUM_FIELDS)}.")
    return fields


def validate_channel_mix(channel_mix: Mapping[str, float] | None) -> dict[str, float]:
    """Return the mix over all channels, or raise ``SamplingError`` unless it sums to 1 (within 1e-9)."""
    mix = dict(DEFAULT_CHANNEL_MIX if channel_mix is None else channel_mix)
    unknown = [channel for channel in mix if channel not in CHANNELS]
    if unknown:
        raise SamplingError("channel_mix", f"Unknown channel(s) {', '.join(map(str, unknown))}; must be any of {', '.join(CHANNELS)}.")
    if any(not isinstance(share, int | float) or share < 0 for share in mix.values()):
        raise SamplingError("channel_mix", "Each share must be a number of at least 0.")
    if abs(sum(mix.values()) - 1) > MIX_TOLERANCE:
        raise SamplingError("channel_mix", "The shares must sum to 1.")
    return {channel: float(mix.get(channel, 0.0)) for channel in CHANNELS}


def stratum_size(households: int, sample_rate: float) -> int:
    """Return how many of a stratum's occupied households are sampled: ``min(n, ceil(rate * n))``."""
    # A rate like 0.1 * 30 is 3.0000000000000004 in floating point: trim that before rounding up.
    return min(households, math.ceil(round(sample_rate * households, 9)))


def channel_counts(size: int, channel_mix: Mapping[str, float]) -> dict[str, int]:
    """Split ``size`` across the channels by largest-remainder rounding (ties in ``CHANNELS`` order)."""
    targets = {channel: channel_mix.get(channel, 0.0) * size for channel in CHANNELS}
    counts = {channel: math.floor(target) for channel, target in targets.items()}
    left = size - sum(counts.values())
    by_remainder = sorted(CHANNELS, key=lambda channel: (-(targets[channel] - counts[channel]), CHANNELS.index(channel)))
    for channel in by_remainder[:left]:
        counts[channel] += 1
    return counts


def _stratum_key(household: Mapping[str, object], fields: Sequence[str]) -> tuple[tuple[str, str], ...]:
    return tuple((field, str(household.get(field) or UNKNOWN)) for field in fields)


def draw_sample(
    *,
    households: Iterable[Mapping[str, object]],
    sample_rate: float,
    strata: Iterable[str] = (),
    channel_mix: Mapping[str, float] | None = None,
    seed: int,
) -> Sample:
    """Draw a stratified, proportional, reproducible sample of the occupied households and split it across channels.

    ``households`` are mappings with ``id``, ``building``, ``household_type`` (owner, tenant or vacant)
    and ``age_band`` (may be absent: its stratum value is then ``unknown``). Raises ``SamplingError`` for a rate below 10%, an unknown
    stratum field, a mix that does not sum to 1, or an estate with no occupied household.
    """
    rate = validate_rate(sample_rate)
    fields = validate_strata(strata)
    mix = validate_channel_mix(channel_mix)
    # The same id twice counts once (the later one wins, as in the households import).
    unique = {str(household["id"]): household for household in households}
    occupied = [unique[household_id] for household_id in sorted(unique) if unique[household_id].get("household_type") != VACANT]
    if not occupied:
        raise SamplingError("estate_id", "The estate has no occupied households to sample.")
    by_stratum: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for household in occupied:
        by_stratum.setdefault(_stratum_key(household, fields), []).append(str(household["id"]))
    generator = random.Random(seed)
    drawn: list[tuple[str, tuple[tuple[str, str], ...]]] = []
    counts: list[StratumCount] = []
    for key in sorted(by_stratum):
        members = by_stratum[key]
        size = stratum_size(len(members), rate)
        drawn.extend((household_id, key) for household_id in generator.sample(members, size))
        counts.append(StratumCount(key=key, households=len(members), sampled=size))
    per_channel = channel_counts(len(drawn), mix)
    generator.shuffle(drawn)
    channels = [channel for channel in CHANNELS for _ in range(per_channel[channel])]
    sampled = sorted(
        (
            SampledHousehold(household_id=household_id, stratum=key, channel=channel)
            for (household_id, key), channel in zip(drawn, channels, strict=True)
        ),
        key=lambda household: household.household_id,
    )
    return Sample(households=tuple(sampled), strata=tuple(counts), channels=per_channel)
