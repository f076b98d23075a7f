"""Projecting one event into analytics' read models, inside the consumer's unit of work.

``project`` runs in the unit of work the kernel opens for the event (``propcare_shared.handling``):
the read-model writes, the inbox marker and any ``hotspot.detected`` it emits (through the outbox)
commit together or not at all, so a redelivered event changes nothing and a hotspot is announced
exactly once.

What is projected (``PROJECTED``, the types analytics' queue is bound to): every complaint fact
(``domain.facts``), satisfaction campaigns and their answers. The directory's estates are kept on a
queue of their own by the kernel's one algorithm (``propcare_shared.directory.keeps_estates``).
Everything else (notifications, warnings, residents' notes, households, analytics' own
``hotspot.detected``) never reaches analytics; should one arrive all the same, it changes nothing.

A complaint's monthly and daily counters (``domain.month_counts``, the pre-aggregated read models of
the monthly review and of the KPIs) move with its facts in the same unit of work: the difference between the facts before and
after the event is applied to its estate's month (``$inc`` and ``$set``/``$unset``), and an event that
changes no facts writes nothing, so the counters always equal a scan of the facts.

A campaign answer (``campaign.response_recorded``) is kept per invitation whether or not its campaign
is known yet (``domain.campaigns``); no complaint is involved.

Hotspots are counted per (group, estate, building, subcategory) (``ClusterKey``): a cluster never
holds another group's complaints, and ``hotspot.detected`` carries the cluster's ``group_id``,
``region_id`` and ``estate_id`` in its envelope, so its consumers scope it like any other event
(the region is that group's region; ``region_key`` writes the pair as ``G1/R1``). The threshold and
the window are those in force for the complaint's estate when it is checked
(``domain.hotspot_settings``: estate over region over group over the default), read in the same
transaction; ``hotspot.detected`` carries both (``threshold``, ``days``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pymongo.client_session import ClientSession

from analytics.domain import campaign_months, campaigns, hotspot_settings, month_counts
from analytics.domain.facts import FACT_EVENTS, apply, complaint_id_of
from analytics.domain.hotspots import MAX_IDS, Window, location, windows_reaching_threshold
from analytics.hotspot_store import ClusterKey
from analytics.store import AnalyticsStore
from propcare_shared.events.envelope import Event
from propcare_shared.events.outbox import Transaction
from propcare_shared.scope import scope_chain
from propcare_shared.tenancy import Tenancy
from propcare_shared.vocabulary import DEFAULT_TIMEZONE

PROJECTED: tuple[str, ...] = tuple(sorted({*FACT_EVENTS, *campaigns.CAMPAIGN_EVENTS, campaigns.RESPONSE_EVENT}))


@dataclass(frozen=True)
class Detection:
    """A hotspot announced by one projection."""

    key: ClusterKey
    region_id: str | None
    window: Window


def project(tx: Transaction, *, store: AnalyticsStore, event: Event) -> list[Detection]:
    """Apply one event to the read models; return the hotspots it made analytics announce."""
    session = tx.session
    if event.type in campaigns.CAMPAIGN_EVENTS:
        _project_campaign(store, event, session=session)
        return []
    if event.type == campaigns.RESPONSE_EVENT:
        _project_answer(store, event, session=session)
        return []
    complaint_id = complaint_id_of(event)
    if complaint_id is None:
        return []
    before = store.facts(complaint_id, session=session)
    after = apply(before, event)
    if after == before:
        return []
    store.save_facts(after, session=session)
    for grain in month_counts.GRAINS:
        store.count_buckets(grain, month_counts.delta(before, after, grain), session=session)
    return _detect_hotspots(tx, store=store, before=before, after=after)


def _project_campaign(store: AnalyticsStore, event: Event, *, session: ClientSession | None) -> None:
    """Keep a campaign's record; when its dimensions change, count its answers again with the new ones."""
    before = store.campaign(event.data["campaign_id"], session=session)
    after = campaigns.campaign_record(before, event)
    store.save_campaign(after, session=session)
    if (before or {}).get("dimensions") != after.get("dimensions"):
        store.rebuild_campaign_months(after["_id"], session=session)


def _project_answer(store: AnalyticsStore, event: Event, *, session: ClientSession | None) -> None:
    """Keep an invitation's answer and move its contribution in its campaign's monthly counters."""
    before = store.campaign_answer(event.data["invitation_id"], session=session)
    after = campaigns.campaign_answer(before, event)
    if after is None:
        return
    store.save_campaign_answer(after, session=session)
    campaign = store.campaign(after["campaign_id"], session=session)
    moved = before is not None and before.get("campaign_id") != after["campaign_id"]
    before_campaign = store.campaign(before["campaign_id"], session=session) if moved and before else campaign
    store.count_campaign_months(campaign_months.delta(before, after, campaign, before_campaign), session=session)


def cluster_of(facts: Mapping[str, Any] | None) -> ClusterKey | None:
    """Return the (group, estate, building, subcategory) a complaint counts in for hotspots, or None."""
    if facts is None or facts.get("status") == "cancelled" or facts.get("received_at") is None:
        return None
    group_id, estate_id = facts.get("group_id"), facts.get("estate_id")
    building, subcategory = facts.get("building"), facts.get("subcategory")
    if not (group_id and estate_id and building and subcategory):
        return None
    return (group_id, estate_id, building, subcategory)


def _detect_hotspots(
    tx: Transaction, *, store: AnalyticsStore, before: Mapping[str, Any] | None, after: Mapping[str, Any]
) -> list[Detection]:
    key = cluster_of(after)
    if key is None or (cluster_of(before) == key and before is not None and before["received_at"] == after["received_at"]):
        return []
    session = tx.session
    store.lock_cluster(key, session=session)
    group_id, estate_id, building, subcategory = key
    region_id = after.get("region_id")
    chain = scope_chain(group_id=group_id, region_id=region_id, estate_id=estate_id)
    setting = hotspot_settings.effective(chain, store.hotspot_overrides(chain, session=session))
    span = timedelta(days=setting.days)
    received_at = after["received_at"]
    members = store.cluster_members(key, since=received_at - span, until=received_at + span, session=session)
    detections = []
    found = windows_reaching_threshold(
        members, trigger=received_at, timezone=after.get("timezone") or DEFAULT_TIMEZONE, window=span, threshold=setting.threshold
    )
    for window in found:
        recorded = store.record_hotspot(
            key, window=window, region_id=region_id, category=after.get("category"), setting=setting, session=session
        )
        if not recorded:
            continue
        tx.emit(
            "hotspot.detected",
            data={
                "location": location(estate_id=estate_id, building=building),
                "building": building,
                "subcategory": subcategory,
                "count": window.count,
                "days": setting.days,
                "threshold": setting.threshold,
                "window_start": window.start,
                "window_end": window.end,
                "complaint_ids": [member.complaint_id for member in window.members[:MAX_IDS]],
            },
            tenancy=Tenancy(group_id, region_id, estate_id),
        )
        detections.append(Detection(key=key, region_id=region_id, window=window))
    return detections
