# The service image: the portal (gunicorn) and the workers, one image for both.
# Not a sandbox: student code never runs in it; workers start sandboxes through the
# Docker engine of their host (docker.io's client talks to the mounted socket).
#
# Built by `dlgrade images build --services` (grader/service_images.py) with a
# context of this file, wheels/ (dlgrade's dependencies, downloaded on the host) and
# src/ (the repository's packages and built-in assignments), on the same Debian base
# as the sandbox images: no image registry is involved. Debian packages come from
# the Debian mirror the base was bootstrapped from.
ARG BASE=dlgrade-base:bookworm
FROM ${BASE}
# docker.io for the client only; postgresql-client for `dlgrade backup` (pg_dump of the
# same major version as the postgres image); curl for health checks.
RUN apt-get update -q \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        docker.io postgresql-client-15 curl ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
# Dependencies first, in a layer of their own: a change to dlgrade's code reuses it.
COPY wheels/ /tmp/wheels/
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-index --no-cache-dir --disable-pip-version-check \
        --find-links /tmp/wheels /tmp/wheels/*.whl \
 && rm -rf /tmp/wheels
# matplotlib's font cache, built once here rather than by every container's first start.
RUN /opt/venv/bin/python -c "import matplotlib.pyplot"
COPY src/ /srv/dlgrade/
# Editable, so the built-in assignments are found beside the packages (grader.config.REPO_ROOT).
RUN /opt/venv/bin/pip install --no-index --no-cache-dir --disable-pip-version-check \
        --no-deps --no-build-isolation -e /srv/dlgrade \
 && useradd --system --uid 10010 --home-dir /var/lib/dlgrade --create-home dlgrade
ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 \
    PYTHONUNBUFFERED=1 \
    DLGRADE_DATA_DIR=/var/lib/dlgrade \
    DLGRADE_LOG_FORMAT=json
WORKDIR /srv/dlgrade
ENTRYPOINT ["/srv/dlgrade/deploy/service-entrypoint.sh"]
CMD ["portal", "serve", "--host", "0.0.0.0", "--port", "8000"]
