"""Intake's consumer process: ``python -m intake.worker`` runs it until SIGTERM or SIGINT.

Besides consuming and relaying, it resumes the households imports whose process died
(``intake.imports.resume_loops``).
"""

from __future__ import annotations

from dataclasses import replace

from intake.imports import resume_loops
from intake.service import INTAKE

WORKER = replace(INTAKE, loops=resume_loops)
build_worker = WORKER.build_worker

if __name__ == "__main__":
    WORKER.run_worker()
