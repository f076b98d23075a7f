"""Every service's consumer queues and the event types each takes: ``{service: {purpose: event types}}``.

Generated from the services' declared handlers by ``python -m infra.tools.topology write``; do not
edit by hand (tests/shared/test_topology.py fails when it drifts from the handlers). Publishers
declare all of them before publishing (``propcare_shared.events.topology``).
"""

from __future__ import annotations

PLATFORM_QUEUES: dict[str, dict[str, tuple[str, ...]]] = {
    "intake": {
        "complaint-status": (
            "complaint.classified",
            "complaint.assigned",
            "complaint.accepted",
            "complaint.responded",
            "complaint.arrived",
            "complaint.plan_submitted",
            "complaint.progress_updated",
            "complaint.on_hold",
            "complaint.resumed",
            "complaint.resolved",
            "complaint.reopened",
            "complaint.closed",
            "complaint.cancelled",
            "complaint.escalated",
            "complaint.reassigned",
            "complaint.reclassified",
        ),
        "hotline-callbacks": ("hotline.callback_updated",),
    },
    "dispatch": {
        "complaint-received": ("complaint.received",),
        "survey-dissatisfied": ("survey.dissatisfied",),
        "survey-completed": ("survey.completed",),
        "hotline-returned": ("hotline.returned",),
        "hotline-satisfaction": ("hotline.satisfaction_reported",),
        "estate-upserted": ("directory.estate.upserted",),
    },
    "notification": {
        "messages": (
            "complaint.received",
            "complaint.classified",
            "complaint.assigned",
            "complaint.responded",
            "complaint.on_hold",
            "complaint.resumed",
            "complaint.resolved",
            "complaint.reopened",
            "complaint.escalated",
            "sla.warning",
            "sla.breached",
            "survey.invited",
            "complaint.plan_submitted",
            "complaint.progress_updated",
            "hotline.accepted",
            "hotline.returned",
            "hotline.extension_requested",
            "directory.estate.upserted",
            "directory.households.imported",
        ),
    },
    "survey": {
        "complaint-resolved": ("complaint.resolved",),
        "households": ("directory.households.imported",),
        "estate-upserted": ("directory.estate.upserted",),
    },
    "analytics": {
        "all-events": (
            "campaign.closed",
            "campaign.response_recorded",
            "campaign.started",
            "complaint.accepted",
            "complaint.arrived",
            "complaint.assigned",
            "complaint.cancelled",
            "complaint.classified",
            "complaint.closed",
            "complaint.escalated",
            "complaint.on_hold",
            "complaint.plan_submitted",
            "complaint.progress_updated",
            "complaint.reassigned",
            "complaint.received",
            "complaint.reclassified",
            "complaint.reopened",
            "complaint.resolved",
            "complaint.responded",
            "complaint.resumed",
            "sla.breached",
            "survey.completed",
            "survey.dissatisfied",
            "survey.invited",
        ),
        "estate-upserted": ("directory.estate.upserted",),
    },
}
