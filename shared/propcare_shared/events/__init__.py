"""Events: the envelope, the catalogue of event types, the bus on kombu and the outbox."""

from propcare_shared.events.envelope import EnvelopeSchema, Event, new_event

__all__ = ["EnvelopeSchema", "Event", "new_event"]
