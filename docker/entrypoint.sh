#!/bin/sh
# alphalab container entrypoint: check the shared folders, then run the command.
#
#   (no arguments)        the reviewer dashboard:
#                         voila notebooks/dashboard/ --port=8866 --no-browser --Voila.ip=0.0.0.0
#   runner [ARGS...]      alphalab runner ARGS  (no ARGS: "start --run-now")
#   repro [ARGS...]       dvc repro ARGS
#   health [ARGS...]      the health check (docker/healthcheck.py)
#   anything else         run as given (e.g. "bash", "alphalab params check")
#
# Exit 78 (EX_CONFIG) when data/ or reports/ is not a writable folder (a volume mounted with
# the wrong owner: the image runs as uid 10001).
set -eu

cd "${ALPHALAB_ROOT:-/app}"

for folder in data reports reports/runs; do
    mkdir -p "$folder" 2>/dev/null || true
    if [ ! -d "$folder" ] || [ ! -w "$folder" ]; then
        echo "entrypoint: $PWD/$folder must be a folder writable by uid $(id -u)" >&2
        exit 78
    fi
done

if [ "$#" -eq 0 ]; then
    set -- voila notebooks/dashboard/ --port=8866 --no-browser --Voila.ip=0.0.0.0
fi

case "$1" in
    runner)
        shift
        if [ "$#" -eq 0 ]; then
            set -- start --run-now
        fi
        exec python -m alphalab.runner "$@"
        ;;
    repro)
        shift
        exec dvc repro "$@"
        ;;
    health)
        shift
        exec python "$PWD/docker/healthcheck.py" "$@"
        ;;
    *)
        exec "$@"
        ;;
esac
