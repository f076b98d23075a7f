"""Propcare analytics: read models built only from events, and the KPIs and hotspots served from them."""
