# shellcheck shell=bash
# Shared helpers for deploy/local/*.sh. Source it; do not run it.

CONVEYOR_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CONVEYOR_STATE="${CONVEYOR_STATE:-$CONVEYOR_REPO_ROOT/.conveyor}"
# Absolute path, whatever the caller passed.
mkdir -p "$CONVEYOR_STATE"
CONVEYOR_STATE="$(cd "$CONVEYOR_STATE" && pwd)"
export CONVEYOR_STATE
STATE="$CONVEYOR_STATE"
# shellcheck disable=SC2034  # used by the scripts that source this file
LOG_DIR="$STATE/logs"
# shellcheck disable=SC2034
RUN_DIR="$STATE/run"

log()  { printf '%s\n' "$*"; }
warn() { printf '%s\n' "$*" >&2; }
die()  { printf 'error: %s\n' "$*" >&2; exit 1; }

# pid_alive PID: true if the process exists and is not a zombie.
pid_alive() {
    local pid="$1" st
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [[ -r "/proc/$pid/status" ]] || return 1
    st="$(awk '/^State:/ {print $2; exit}' "/proc/$pid/status" 2>/dev/null || true)"
    [[ -n "$st" && "$st" != "Z" && "$st" != "X" ]]
}

# read_pid FILE: print the pid stored in FILE (first line), or nothing.
read_pid() {
    local f="$1" pid=""
    [[ -f "$f" ]] || return 0
    read -r pid < "$f" || true
    [[ "$pid" =~ ^[0-9]+$ ]] && printf '%s\n' "$pid"
    return 0
}

# pidfile_alive FILE: true if FILE names a live (non-zombie) process.
pidfile_alive() {
    local pid
    pid="$(read_pid "$1")"
    [[ -n "$pid" ]] && pid_alive "$pid"
}

# port_open HOST PORT: true if something accepts TCP connections there.
port_open() {
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# wait_pid_exit PID SECONDS: wait until PID is gone (or a zombie). Returns 1 on timeout.
wait_pid_exit() {
    local pid="$1" secs="$2" i
    for ((i = 0; i < secs * 10; i++)); do
        pid_alive "$pid" || return 0
        sleep 0.1
    done
    pid_alive "$pid" && return 1
    return 0
}

# kill_pid PID TIMEOUT: SIGTERM, wait up to TIMEOUT s, then SIGKILL.
kill_pid() {
    local pid="$1" secs="${2:-15}"
    pid_alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_pid_exit "$pid" "$secs"; then
        kill -KILL "$pid" 2>/dev/null || true
        wait_pid_exit "$pid" 5 || return 1
    fi
    return 0
}

# tail_log FILE [N]: print the last N lines of FILE to stderr, framed.
tail_log() {
    local f="$1" n="${2:-30}"
    if [[ -f "$f" ]]; then
        warn "---- last $n lines of $f ----"
        tail -n "$n" "$f" >&2 || true
        warn "---- end of $f ----"
    else
        warn "(no log file $f)"
    fi
}

# port_owner PORT: short description of who listens on PORT (best effort, may be empty).
port_owner() {
    ss -ltnpH "sport = :$1" 2>/dev/null | grep -o 'users:(.*)' | head -n 1 || true
}

# service_port NAME: a service's health port (the gateway's HTTP port), from its environment
# variable or the default; fails for an unknown name.
service_port() {
    case "$1" in
        api-gateway) echo "${GATEWAY_PORT:-8080}" ;;
        metadata) echo "${METADATA_HEALTH_PORT:-8181}" ;;
        scheduler) echo "${SCHEDULER_HEALTH_PORT:-8182}" ;;
        importer) echo "${IMPORTER_HEALTH_PORT:-8183}" ;;
        exporter) echo "${EXPORTER_HEALTH_PORT:-8184}" ;;
        runner) echo "${RUNNER_HEALTH_PORT:-8185}" ;;
        notifier) echo "${NOTIFIER_HEALTH_PORT:-8186}" ;;
        *) return 1 ;;
    esac
}

# ---------------------------------------------------------------- runs that start services
# test.sh and bench.sh: timed progress lines, infrastructure up, services from a build, and a trap
# that stops the services they started (and, with CI=true, the infrastructure) however they exit.

# run_begin LABEL: starts the clock and installs the cleanup trap.
run_begin() {
    RUN_LABEL="$1"
    RUN_T0=$SECONDS
    RUN_SERVICES_STARTED=0
    trap run_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

step() { printf '[%s %3ds] %s\n' "$RUN_LABEL" "$((SECONDS - RUN_T0))" "$*"; }

# shellcheck disable=SC2317  # invoked by trap
run_cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if ((RUN_SERVICES_STARTED)); then
        # Worker hosts a test made (WorkerHostsTests) and did not take down, if it was cut short.
        if [[ -n "$(ip netns list 2>/dev/null | grep conveyor-host || true)" ]]; then
            step "removing worker hosts"
            bash "$CONVEYOR_REPO_ROOT/deploy/local/hosts.sh" down || true
        fi
        step "stopping services"
        bash "$CONVEYOR_REPO_ROOT/deploy/local/services.sh" stop || true
    fi
    if [[ "${CI:-}" == "true" ]]; then
        step "CI=true: stopping infrastructure"
        bash "$CONVEYOR_REPO_ROOT/deploy/local/infra.sh" down || true
    fi
    step "done: exit $rc, total elapsed $((SECONDS - RUN_T0))s"
    exit "$rc"
}

# run_infra_up: installs missing packages and starts RabbitMQ, PostgreSQL and the SMTP sink.
run_infra_up() {
    step "installing system packages (if missing)"
    bash "$CONVEYOR_REPO_ROOT/deploy/local/infra.sh" install
    step "starting infrastructure"
    bash "$CONVEYOR_REPO_ROOT/deploy/local/infra.sh" up
}

# run_services_start: (re)starts the seven services from $CONVEYOR_BIN_DIR. Services started
# earlier (e.g. by `make up`) may run other binaries or settings, so they are restarted.
# run_fresh_database NAME: stops the services, drops and creates the database NAME, and points
# POSTGRES_URL and CONVEYOR_TEST_POSTGRES_URL at it (the benchmarks that seed millions of rows).
run_fresh_database() {
    local pg="postgres://conveyor@127.0.0.1:${CONVEYOR_PG_PORT:-5433}"
    step "a fresh database: $1"
    bash "$CONVEYOR_REPO_ROOT/deploy/local/services.sh" stop >/dev/null
    psql "$pg/postgres" -qX -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1"
    export POSTGRES_URL="$pg/$1" CONVEYOR_TEST_POSTGRES_URL="$pg/$1"
}

run_services_start() {
    step "starting services from $CONVEYOR_BIN_DIR (RUNNER_SLOTS=${RUNNER_SLOTS:-from config})"
    bash "$CONVEYOR_REPO_ROOT/deploy/local/services.sh" stop >/dev/null
    RUN_SERVICES_STARTED=1
    bash "$CONVEYOR_REPO_ROOT/deploy/local/services.sh" start
}

# run_debug_build: the debug build the chaos, cluster and rolling runs use (its bin path in CONVEYOR_BIN_DIR).
run_debug_build() {
    step "building (swift build)"
    "${SWIFT:-swift}" build
    CONVEYOR_BIN_DIR="$("${SWIFT:-swift}" build --show-bin-path)"
    export CONVEYOR_BIN_DIR
}

# run_release_build: the release build the benchmarks run (its bin path in CONVEYOR_BIN_DIR), with
# RUNNER_SLOTS 64 unless set: a slot is held from dispatch until the scheduler hears the job ended
# (claim, run, report, commit, event), so keeping two cores busy with trivial jobs takes more slots
# than cores. The runner offers as many cpus as slots and 256 MB per slot (the default a job asks
# for), so the trivial jobs are packed by slots: they overcommit the host on purpose.
run_release_build() {
    step "building (swift build -c release)"
    "${SWIFT:-swift}" build -c release
    CONVEYOR_BIN_DIR="$("${SWIFT:-swift}" build -c release --show-bin-path)"
    export CONVEYOR_BIN_DIR
    export RUNNER_SLOTS="${RUNNER_SLOTS:-64}"
    export RUNNER_CPUS="${RUNNER_CPUS:-$RUNNER_SLOTS}"
    export RUNNER_MEMORY_MB="${RUNNER_MEMORY_MB:-$((RUNNER_SLOTS * 256))}"
}

# SECOND_INSTANCES: a second instance of every service (services.sh NAME@2).
SECOND_INSTANCES=(metadata@2 scheduler@2 importer@2 exporter@2 runner@2 notifier@2 api-gateway@2)

# rolling_run JOBS: starts a second instance of every service beside the running ones, restarts
# every instance in turn under JOBS jobs (conveyor-chaos --rolling 1, both gateways), and stops the
# second instances again; returns conveyor-chaos's status.
rolling_run() {
    local rc=0 second_gateway=$((${GATEWAY_PORT:-8080} + 10))
    step "second instances: ${SECOND_INSTANCES[*]}"
    bash "$CONVEYOR_REPO_ROOT/deploy/local/services.sh" start "${SECOND_INSTANCES[@]}" || return 1
    step "running conveyor-chaos --jobs $1 --rolling 1"
    CONVEYOR_GATEWAY_URLS="http://127.0.0.1:${GATEWAY_PORT:-8080},http://127.0.0.1:$second_gateway" \
        "$CONVEYOR_BIN_DIR/conveyor-chaos" --jobs "$1" --rolling 1 --settle "${ROLLING_SETTLE:-240}" || rc=$?
    step "conveyor-chaos --rolling exited with $rc"
    bash "$CONVEYOR_REPO_ROOT/deploy/local/services.sh" stop "${SECOND_INSTANCES[@]}" || true
    return "$rc"
}
