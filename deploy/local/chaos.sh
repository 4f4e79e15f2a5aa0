#!/usr/bin/env bash
# The chaos suite: infrastructure up, build, services started with short leases and a short e-mail
# backoff, then `conveyor-chaos "$@"` (default: 2000 jobs, SMTP away for 5 minutes): every service
# killed with SIGKILL in turn, RabbitMQ and PostgreSQL restarted, the SMTP sink taken away; it
# prints what was lost and how long each part took to recover, and exits non-zero on any loss,
# stuck job or duplicate. `make test` runs a shorter one (300 jobs, SMTP away 20 s).
set -euo pipefail
umask 022
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/lib.sh
source "$HERE/lib.sh"
cd "$CONVEYOR_REPO_ROOT"
run_begin chaos
run_infra_up
run_debug_build
# A lost worker's attempts come back after 6 s; an e-mail held by the outage is tried every 30 s.
export SCHEDULER_WORKER_TIMEOUT_SECONDS=8
export WORKER_LEASE_SECONDS=6
export NOTIFIER_MAX_BACKOFF_SECONDS="${NOTIFIER_MAX_BACKOFF_SECONDS:-30}"
export CONVEYOR_GATEWAY_URL="http://127.0.0.1:${GATEWAY_PORT:-8080}"
run_services_start
step "running conveyor-chaos $*"
"$CONVEYOR_BIN_DIR/conveyor-chaos" "$@"
