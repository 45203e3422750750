# alphalab in a container: the reviewer dashboard (default command) and the scheduled runner.
#
#   docker build -t alphalab .
#   docker run -p 127.0.0.1:8866:8866 alphalab              # dashboard on http://127.0.0.1:8866
#   docker run alphalab runner start --run-now               # scheduled runner
#   docker compose up -d                                     # both, sharing data/ and reports/
#
# See docs/DEPLOYMENT.md. The image holds the pinned environment (requirements.lock), the
# package, the pipeline definition and the notebooks; data/ and reports/ are volumes.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ALPHALAB_ROOT=/app \
    ALPHALAB_HEALTH_URL=http://127.0.0.1:8866/

# tini: PID 1 that forwards signals to the command and reaps orphaned processes
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 --user-group --shell /usr/sbin/nologin alphalab

WORKDIR /app

# the pinned environment first: this layer is reused while requirements.lock is unchanged
COPY requirements.lock ./
RUN pip install --no-deps -r requirements.lock

COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-deps --no-build-isolation -e . \
    && pip check \
    && python -c "from alphalab.pipeline import ensure_kernel; ensure_kernel()"

COPY params.yaml dvc.yaml .dvcignore ./
COPY .dvc/config .dvc/config
COPY notebooks ./notebooks
COPY expectations ./expectations
COPY docker ./docker

# the image is not a git repository: DVC runs without SCM; data/ and reports/ are volumes
RUN printf '[core]\n    no_scm = true\n' > .dvc/config.local \
    && mkdir -p data reports/runs .dvc/cache .dvc/tmp \
    && chmod 0755 docker/entrypoint.sh docker/healthcheck.py \
    && chown -R alphalab:alphalab /app

USER alphalab

EXPOSE 8866

# fails when the dashboard does not answer or the last successful run is older than
# runner.max_run_age_hours (set ALPHALAB_MAX_RUN_AGE_HOURS=0 for a dashboard without a runner)
HEALTHCHECK --interval=60s --timeout=15s --start-period=120s --retries=3 \
    CMD ["python", "/app/docker/healthcheck.py"]

ENTRYPOINT ["/usr/bin/tini", "--", "/app/docker/entrypoint.sh"]
CMD ["voila", "notebooks/dashboard/", "--port=8866", "--no-browser", "--Voila.ip=0.0.0.0"]
