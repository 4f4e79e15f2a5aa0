#!/usr/bin/env bash
# Benchmark: infrastructure up, release build, services from the release bin path,
# then `conveyor-bench --jobs $BENCH_JOBS "$@"`; services are stopped afterwards.
set -euo pipefail
umask 022
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/lib.sh
source "$HERE/lib.sh"
cd "$CONVEYOR_REPO_ROOT"
run_begin bench
run_infra_up
run_release_build
run_services_start

# The read benchmark drives the gateway with wrk.
if ! command -v wrk >/dev/null && [[ $EUID -eq 0 ]]; then
    step "installing wrk"
    apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends wrk >> "$CONVEYOR_STATE/logs/apt.log" 2>&1 ||
        echo "wrk could not be installed: the read benchmark is skipped"
fi
step "running conveyor-bench --jobs ${BENCH_JOBS:-2000} $*"
"$CONVEYOR_BIN_DIR/conveyor-bench" --jobs "${BENCH_JOBS:-2000}" "$@"
