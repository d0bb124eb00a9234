# The service image: dlgrade's CLI, workers (and, later, the portal). Not a sandbox:
# student code never runs in it; workers start sandboxes through the host's Docker engine.
FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends docker.io bubblewrap \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /srv/dlgrade
COPY pyproject.toml README.md ./
COPY reference reference
COPY grader grader
COPY worker worker
COPY web web
COPY assignments assignments
RUN pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
    && pip install --no-cache-dir .
ENTRYPOINT ["dlgrade"]
