"""gunicorn settings of the intake web service: the shared ones (infra/gunicorn/common.py) and its app.

Run from the repository root (/app in the image): `gunicorn -c services/intake/gunicorn.conf.py`.
"""

import sys
from pathlib import Path

_root = str(Path(__file__).resolve().parents[2])
if _root not in sys.path:
    sys.path.insert(0, _root)

from infra.gunicorn.common import *  # noqa: E402, F403 - gunicorn reads the settings as module globals

wsgi_app = "intake.app:create_app()"
proc_name = "propcare-intake"
