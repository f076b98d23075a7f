"""HTTP building blocks: problem+json errors, JWT auth, pagination, idempotency keys, the app factory."""
