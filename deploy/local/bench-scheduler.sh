#!/usr/bin/env bash
# Scheduler benchmark at scale. First the scheduler's decisions alone, in the benchmark's process
# (`--scheduler-jobs`: SCHEDULER_JOBS, 1,000,000, queued jobs and SCHEDULER_WORKERS, 1,000, workers):
# the cost per dispatch decision, the memory of the state and the cost of one queue position.
# Then the real scheduler taking over a backlog (`--failover`): on a fresh database
# (conveyor_scheduler, dropped and created again), FAILOVER_JOBS (1,000,000) QUEUED jobs are added
# in the store's format, the scheduler is stopped, a small job submitted and the scheduler started:
# the time to that job's dispatch and the scheduler's resident memory once it has read every page.
# Services are stopped afterwards; the database is kept until the next run.
set -euo pipefail
umask 022
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/lib.sh
source "$HERE/lib.sh"
cd "$CONVEYOR_REPO_ROOT"
run_begin bench-scheduler
run_infra_up
run_release_build

PG="postgres://conveyor@127.0.0.1:${CONVEYOR_PG_PORT:-5433}"
step "a fresh database: conveyor_scheduler"
bash "$CONVEYOR_REPO_ROOT/deploy/local/services.sh" stop >/dev/null
psql "$PG/postgres" -qX -v ON_ERROR_STOP=1 -c 'DROP DATABASE IF EXISTS conveyor_scheduler' -c 'CREATE DATABASE conveyor_scheduler'
export POSTGRES_URL="$PG/conveyor_scheduler" CONVEYOR_TEST_POSTGRES_URL="$PG/conveyor_scheduler"
run_services_start

step "running conveyor-bench --scheduler-jobs ${SCHEDULER_JOBS:-1000000} --scheduler-workers ${SCHEDULER_WORKERS:-1000} --failover ${FAILOVER_JOBS:-1000000}"
"$CONVEYOR_BIN_DIR/conveyor-bench" --jobs 0 --sequential 0 --reads 0 --search-objects 0 \
    --scheduler-jobs "${SCHEDULER_JOBS:-1000000}" --scheduler-workers "${SCHEDULER_WORKERS:-1000}" --failover "${FAILOVER_JOBS:-1000000}"
