"""The no-op baseline of the wrk comparisons: served by gunicorn with ``SERVICE=tests.bench.load.noop``."""
