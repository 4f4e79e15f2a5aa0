#!/usr/bin/env bash
# Full test run: infrastructure up, build with tests, start services with test settings,
# run `swift test --no-parallel $TEST_ARGS` and, for the whole suite, fuzz the gateway
# (deploy/local/fuzz.sh quick), test the web page, the monitoring configuration, backup and restore and the deployment files, run a short chaos suite (conveyor-chaos) and a short rolling restart of two instances of each service, stop services (and
# infra if CI=true).
# Exits with swift test's exit code.
set -euo pipefail
umask 022
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/lib.sh
source "$HERE/lib.sh"
cd "$CONVEYOR_REPO_ROOT"
SWIFT="${SWIFT:-swift}"
run_begin test
run_infra_up

# The deployment files need no build: checked beside it (the result is read at the end).
if [[ -z "${TEST_ARGS:-}" ]]; then
    bash "$HERE/packaging-test.sh" > "$LOG_DIR/packaging-test.log" 2>&1 &
    PACKAGING_PID=$!
fi
# CONVEYOR_SWIFT_BUILD_FLAGS: extra build flags (`.ci/run` builds without debug information, which
# the suite does not use, to save minutes of a cold build); split into words on purpose.
step "building (swift build --build-tests ${CONVEYOR_SWIFT_BUILD_FLAGS:-})"
# shellcheck disable=SC2086
"$SWIFT" build --build-tests ${CONVEYOR_SWIFT_BUILD_FLAGS:-}
CONVEYOR_BIN_DIR="$("$SWIFT" build --show-bin-path)"
export CONVEYOR_BIN_DIR
# One runner slot, so the priority test has more queued jobs than slots; a shorter silence before
# a worker is presumed dead and shorter leases, so the dead-runner test does not wait long.
export RUNNER_SLOTS=1
export SCHEDULER_WORKER_TIMEOUT_SECONDS=8
export WORKER_LEASE_SECONDS=6
# Room for the containment tests' jobs (300 MB filled, 256 forks); a short grace between SIGTERM and SIGKILL.
export RUNNER_MEMORY_MB=2048
export RUNNER_KILL_GRACE_SECONDS=2
export RUNNER_MAX_PROCESSES=256
# Models run as users of their own (uids without accounts; test.sh runs as root, as CI does).
export RUNNER_RUN_AS_UIDS=61000-61015
# A small disk quota per attempt, and usage sampled every second.
export RUNNER_DISK_MB=64
export RUNNER_USAGE_SAMPLE_SECONDS=1
# E-mails that could not be sent are tried again at most 2 s apart (the outage test waits for it).
export NOTIFIER_MAX_BACKOFF_SECONDS=2
# A revoked token is refused within a second; a browser origin the CORS test calls from.
export AUTH_CACHE_SECONDS=1
export GATEWAY_CORS_ORIGINS="https://app.example.test"
# An execution profile, read alike by metadata (validation, defaults) and the runner (environment).
export PROFILES_NAMES=lean
export PROFILES_LEAN_ENVIRONMENT="CONVEYOR_PROFILE_CHECK=lean-profile,OMP_NUM_THREADS=1"
export PROFILES_LEAN_PYTHON=/usr/bin/python3
export PROFILES_LEAN_MEMORY_MB=300
export PROFILES_LEAN_LIMITS_MEMORY_MB=512

AMQP_PORT="${CONVEYOR_AMQP_PORT:-5672}"
PG_PORT="${CONVEYOR_PG_PORT:-5433}"
SMTP_PORT="${CONVEYOR_SMTP_PORT:-2525}"
export CONVEYOR_TEST_POSTGRES_URL="postgres://conveyor@127.0.0.1:${PG_PORT}/conveyor"
export CONVEYOR_TEST_AMQP_URL="amqp://guest:guest@127.0.0.1:${AMQP_PORT}/"
export CONVEYOR_TEST_SMTP_URL="smtp://127.0.0.1:${SMTP_PORT}"
export CONVEYOR_TEST_MAILDIR="$STATE/mail"
export CONVEYOR_TEST_PG_DATADIR="$STATE/postgres"
export CONVEYOR_GATEWAY_URL="http://127.0.0.1:${GATEWAY_PORT:-8080}"

run_services_start

step "running swift test --no-parallel ${TEST_ARGS:-}"
rc=0
# TEST_ARGS is split into words on purpose (e.g. TEST_ARGS="--filter ApiTests").
# shellcheck disable=SC2086
"$SWIFT" test --skip-build --no-parallel ${TEST_ARGS:-} || rc=$?
step "swift test exited with $rc"
# The whole suite also fuzzes the gateway against its OpenAPI document (a focused run does not).
if [[ -z "${TEST_ARGS:-}" ]]; then
    # The fuzzing runs beside the web, monitoring and backup tests (each only reads what the others
    # write, or writes its own): its result is read after them.
    step "fuzzing the gateway (deploy/local/fuzz.sh quick), beside the next three"
    bash "$HERE/fuzz.sh" quick > "$LOG_DIR/fuzz-run.log" 2>&1 &
    FUZZ_PID=$!
    # The web page in a real headless Chromium (installs chromium, chromium-driver and Selenium).
    step "the web page (deploy/local/web-test.sh)"
    wrc=0
    bash "$HERE/web-test.sh" || wrc=$?
    step "the web page test exited with $wrc"
    if ((rc == 0)); then rc=$wrc; fi
    # The monitoring configuration: promtool, and a real Prometheus scraping every service.
    step "monitoring (deploy/local/monitoring-test.sh)"
    mrc=0
    bash "$HERE/monitoring-test.sh" || mrc=$?
    step "the monitoring test exited with $mrc"
    if ((rc == 0)); then rc=$mrc; fi
    # A backup of the running system, restored into a fresh state folder and read back.
    step "backup and restore (deploy/local/backup-test.sh)"
    brc=0
    bash "$HERE/backup-test.sh" || brc=$?
    step "the backup test exited with $brc"
    if ((rc == 0)); then rc=$brc; fi
    frc=0
    wait "$FUZZ_PID" || frc=$?
    cat "$LOG_DIR/fuzz-run.log"
    step "fuzzing exited with $frc"
    if ((rc == 0)); then rc=$frc; fi
    # The deployment files: systemd units, Kubernetes manifests, Compose file, Dockerfile (checked during the build).
    prc=0
    wait "$PACKAGING_PID" || prc=$?
    cat "$LOG_DIR/packaging-test.log"
    step "the packaging test (deploy/local/packaging-test.sh, run during the build) exited with $prc"
    if ((rc == 0)); then rc=$prc; fi
    # The chaos suite, shorter (make chaos runs the whole one): 300 jobs, every part taken away.
    step "chaos (conveyor-chaos --jobs 300 --smtp-outage 20)"
    crc=0
    "$CONVEYOR_BIN_DIR/conveyor-chaos" --jobs 300 --smtp-outage 20 --settle 180 || crc=$?
    step "chaos exited with $crc"
    if ((rc == 0)); then rc=$crc; fi
    # A rolling restart, shorter (make rolling-test runs 1000 jobs): a second instance of every
    # service, each instance restarted in turn under 300 jobs.
    step "rolling restart (two instances of each service, 300 jobs)"
    rrc=0
    rolling_run 300 || rrc=$?
    if ((rc == 0)); then rc=$rrc; fi
fi
exit "$rc"
