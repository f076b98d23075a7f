"""Survey's own metric: answers recorded, by survey kind (docs/API.md, Metrics)."""

from __future__ import annotations

from prometheus_client import Counter

SURVEY_RESPONSES = Counter("survey_responses_total", "Survey answers recorded, by survey kind.", ["kind"])
