#!/usr/bin/env bash
# Scale benchmark: on a fresh database (conveyor_scale, dropped and created again), the services
# from a release build, then `conveyor-bench --scale $SCALE_JOBS`: submit latency and job-list
# paging measured on the empty database, then again after SCALE_JOBS (1,000,000) finished jobs
# were added in the store's format. Services are stopped afterwards; the database is kept until
# the next run (drop it with `psql ... -c 'DROP DATABASE conveyor_scale'`).
set -euo pipefail
umask 022
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/lib.sh
source "$HERE/lib.sh"
cd "$CONVEYOR_REPO_ROOT"
run_begin bench-scale
run_infra_up
run_release_build

run_fresh_database conveyor_scale
run_services_start

step "running conveyor-bench --scale ${SCALE_JOBS:-1000000}"
"$CONVEYOR_BIN_DIR/conveyor-bench" --jobs 0 --sequential 0 --reads 0 --search-objects 0 --scale "${SCALE_JOBS:-1000000}"
