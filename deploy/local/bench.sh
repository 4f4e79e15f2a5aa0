#!/usr/bin/env bash
# Benchmark: infrastructure up, release build, services from the release bin path,
# then `conveyor-bench --jobs $BENCH_JOBS "$@"`; services are stopped afterwards.
set -euo pipefail
umask 022
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/lib.sh
source "$HERE/lib.sh"
cd "$CONVEYOR_REPO_ROOT"
SWIFT="${SWIFT:-swift}"
run_begin bench
run_infra_up

step "building (swift build -c release)"
"$SWIFT" build -c release
BIN="$("$SWIFT" build -c release --show-bin-path)"
export CONVEYOR_BIN_DIR="$BIN"
# A slot is held from dispatch until the scheduler hears the job ended (claim, run, report,
# commit, event), so keeping two cores busy with trivial jobs takes more slots than cores.
export RUNNER_SLOTS="${RUNNER_SLOTS:-64}"
run_services_start

# The read benchmark drives the gateway with wrk.
if ! command -v wrk >/dev/null && [[ $EUID -eq 0 ]]; then
    step "installing wrk"
    apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends wrk >> "$CONVEYOR_STATE/logs/apt.log" 2>&1 ||
        echo "wrk could not be installed: the read benchmark is skipped"
fi
step "running conveyor-bench --jobs ${BENCH_JOBS:-2000} $*"
"$BIN/conveyor-bench" --jobs "${BENCH_JOBS:-2000}" "$@"
