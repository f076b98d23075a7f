"""Intake's consumer process: ``python -m intake.worker`` runs it until SIGTERM or SIGINT."""

from __future__ import annotations

from intake.service import INTAKE

build_worker = INTAKE.build_worker

if __name__ == "__main__":
    INTAKE.run_worker()
