"""docs/API.md's "Gateway paths → service", as sample paths and the service that must answer each.

Every router (the one-process gateway, nginx in docker-compose, the Kubernetes Ingress) is held to it.
"""

from __future__ import annotations

SERVICES = ("intake", "dispatch", "notification", "survey", "analytics")

# (path, service); None: no service answers it.
EXPECTED_ROUTES: tuple[tuple[str, str | None], ...] = (
    ("/api/v1/complaints", "intake"),
    ("/api/v1/complaints/c1", "intake"),
    ("/api/v1/complaints/c1/attachments", "intake"),
    ("/api/v1/track/tok123", "intake"),
    ("/api/v1/estates/NS01", "intake"),
    ("/api/v1/estates/NS01/households", "intake"),
    ("/api/v1/estates/NS01/households:import", "intake"),
    ("/api/v1/estates/NS01/staffing-report", "intake"),
    ("/api/v1/hotline/transfers", "intake"),
    ("/api/v1/hotline/transfers/12345-20261122-000123/accept", "intake"),
    ("/api/v1/open311/keys", "intake"),
    ("/open311/v2/discovery.json", "intake"),
    ("/open311/v2/requests.json", "intake"),
    ("/r/tok123", "intake"),
    ("/api/v1/work-orders", "dispatch"),
    ("/api/v1/work-orders/c1/actions", "dispatch"),
    ("/api/v1/classify", "dispatch"),
    ("/api/v1/sla/preview", "dispatch"),
    ("/api/v1/sla-policies/estate:NS01", "dispatch"),
    ("/api/v1/calendars/group:G1", "dispatch"),
    ("/api/v1/estates/NS01/staff", "dispatch"),
    ("/api/v1/estates/NS01/staff/NS01-agent", "dispatch"),
    ("/api/v1/estates/FT02/grids", "dispatch"),
    ("/api/v1/estates/FT02/grids/FT02-G1", "dispatch"),
    ("/api/v1/notifications", "notification"),
    ("/api/v1/notifications/m1", "notification"),
    ("/api/v1/templates/complaint.assigned", "notification"),
    ("/api/v1/call-tasks", "notification"),
    ("/api/v1/call-tasks/t1/done", "notification"),
    ("/o/tok123", "notification"),
    ("/api/v1/surveys/tok123/responses", "survey"),
    ("/api/v1/surveys/invitations/i1/responses", "survey"),
    ("/api/v1/questionnaires", "survey"),
    ("/api/v1/campaigns/c1/responses:import", "survey"),
    ("/s/tok123", "survey"),
    ("/api/v1/analytics/kpis", "analytics"),
    ("/api/v1/analytics/reports/monthly", "analytics"),
    ("/api/v1/complaintsx", None),
    ("/api/v1/call-tasksx", None),
    ("/o", None),
    ("/api/v1/unknown", None),
    ("/api/v2/complaints", None),
    ("/nothing/here", None),
)
