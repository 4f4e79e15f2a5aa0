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

run_fresh_database conveyor_scheduler
run_services_start

step "running conveyor-bench --scheduler-jobs ${SCHEDULER_JOBS:-1000000} --scheduler-workers ${SCHEDULER_WORKERS:-1000} --failover ${FAILOVER_JOBS:-1000000}"
"$CONVEYOR_BIN_DIR/conveyor-bench" --jobs 0 --sequential 0 --reads 0 --search-objects 0 \
    --scheduler-jobs "${SCHEDULER_JOBS:-1000000}" --scheduler-workers "${SCHEDULER_WORKERS:-1000}" --failover "${FAILOVER_JOBS:-1000000}"
