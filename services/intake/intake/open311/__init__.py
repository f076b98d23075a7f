"""Open311 GeoReport v2 on intake: civic clients file and read complaints in the standard's shapes.

- ``mapping``: the pure rules (locales, the service list, a complaint as a GeoReport request, the
  error array); ``schemas``: what a client may send; ``store``: API keys (kept as SHA-256 digests)
  and what a GeoReport request carries beyond a complaint (address, coordinates, media URL);
  ``routes``: the ``/open311/v2/`` blueprint and the key issuance at ``/api/v1/open311/keys``.
- A request is filed through ``complaints.receive`` on the channel ``open311``, so it is a
  complaint like any other: one transaction, ``complaint.received`` with the contact sealed.
- Public reads show only complaints filed on the channel ``open311`` and never a reporter's name,
  phone, e-mail, device or account id. Every answer under ``/open311`` is JSON; every error there is
  the standard's array of ``{"code", "description"}``, never problem+json (docs/OPEN311.md).
"""

from __future__ import annotations
