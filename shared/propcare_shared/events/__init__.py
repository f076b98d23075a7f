"""Events: the envelope, the catalogue of event types, the bus on kombu and the outbox."""

from propcare_shared.events.envelope import Event, EnvelopeSchema, new_event

__all__ = ["Event", "EnvelopeSchema", "new_event"]
