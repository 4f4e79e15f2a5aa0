#!/usr/bin/env bash
# Benchmark: infrastructure up, release build, services from the release bin path,
# then `conveyor-bench --jobs $BENCH_JOBS "$@"`; services are stopped afterwards.
set -euo pipefail
umask 022
T0=$SECONDS
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/lib.sh
source "$HERE/lib.sh"
cd "$CONVEYOR_REPO_ROOT"
SWIFT="${SWIFT:-swift}"

step() { printf '[bench %3ds] %s\n' "$((SECONDS - T0))" "$*"; }

SERVICES_STARTED=0
# shellcheck disable=SC2317  # invoked by trap
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if ((SERVICES_STARTED)); then
        step "stopping services"
        bash "$HERE/services.sh" stop || true
    fi
    step "done: exit $rc, total elapsed $((SECONDS - T0))s"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "installing system packages (if missing)"
bash "$HERE/infra.sh" install
step "starting infrastructure"
bash "$HERE/infra.sh" up
step "building (swift build -c release)"
"$SWIFT" build -c release
BIN="$("$SWIFT" build -c release --show-bin-path)"
export CONVEYOR_BIN_DIR="$BIN"
export RUNNER_SLOTS="${RUNNER_SLOTS:-4}"


# Services started earlier (e.g. a debug `make up`) would be reused otherwise: restart them.
step "starting services from $BIN (RUNNER_SLOTS=$RUNNER_SLOTS)"
bash "$HERE/services.sh" stop >/dev/null
SERVICES_STARTED=1
bash "$HERE/services.sh" start

step "running conveyor-bench --jobs ${BENCH_JOBS:-2000} $*"
"$BIN/conveyor-bench" --jobs "${BENCH_JOBS:-2000}" "$@"
