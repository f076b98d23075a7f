"""Survey's consumer process: ``python -m survey.worker`` runs it until SIGTERM or SIGINT."""

from __future__ import annotations

from survey.service import SURVEY

build_worker = SURVEY.build_worker

if __name__ == "__main__":
    SURVEY.run_worker()
