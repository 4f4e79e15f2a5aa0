#!/usr/bin/env bash
# A rolling restart under load: two instances of every service (services.sh start NAME@2: the
# second on ports 10 above the first), a steady load of jobs with e-mail through both gateways
# (conveyor-chaos --rolling 1, ROLLING_JOBS=1000), and each instance of each service in turn stopped
# gracefully and started again while the other carries on. It passes when every job SUCCEEDED
# exactly once with exactly one e-mail, nothing is stuck, and a probe job succeeded after every
# restart. `make test` runs a shorter one (300 jobs) on the services it already started.
set -euo pipefail
umask 022
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/lib.sh
source "$HERE/lib.sh"
cd "$CONVEYOR_REPO_ROOT"
run_begin rolling
run_infra_up
run_debug_build
# A worker that stops gracefully hands its attempts back at once; these cover one that does not.
export SCHEDULER_WORKER_TIMEOUT_SECONDS=8
export WORKER_LEASE_SECONDS=6
export NOTIFIER_MAX_BACKOFF_SECONDS=5
run_services_start
rolling_run "${ROLLING_JOBS:-1000}"
