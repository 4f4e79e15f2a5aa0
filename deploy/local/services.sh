#!/usr/bin/env bash
# Start/stop the Conveyor service executables as background processes.
#
#   deploy/local/services.sh start [NAME...]    start all (metadata first) or the named ones, wait for /healthz
#   deploy/local/services.sh stop [NAME...]     SIGTERM, wait up to 15 s, then SIGKILL
#   deploy/local/services.sh restart [NAME...]
#   deploy/local/services.sh status [NAME...]   exit 3 if one is not running/healthy
#   deploy/local/services.sh admin-token        issue the local admin token again unless
#                                               $CONVEYOR_STATE/admin-token holds a valid one
#
# Environment: CONVEYOR_BIN_DIR (default <repo>/.build/debug), CONVEYOR_STATE,
# CONVEYOR_SERVICES_TIMEOUT (60 s), and the health ports GATEWAY_PORT (8080),
# METADATA_HEALTH_PORT (8181), SCHEDULER_HEALTH_PORT (8182), IMPORTER_HEALTH_PORT (8183),
# EXPORTER_HEALTH_PORT (8184), RUNNER_HEALTH_PORT (8185), NOTIFIER_HEALTH_PORT (8186).
# Logs: $CONVEYOR_STATE/logs/<name>.log, pids: $CONVEYOR_STATE/run/<name>.pid.
set -euo pipefail
umask 022

# shellcheck source=deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BIN_DIR="${CONVEYOR_BIN_DIR:-$CONVEYOR_REPO_ROOT/.build/debug}"
TIMEOUT="${CONVEYOR_SERVICES_TIMEOUT:-60}"
STOP_TIMEOUT=15

# Start order: metadata first, the gateway last.
ALL_SERVICES=(metadata scheduler importer exporter runner notifier api-gateway)

svc_port() {
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

svc_pidfile() { echo "$RUN_DIR/$1.pid"; }
svc_log() { echo "$LOG_DIR/$1.log"; }
svc_running() { pidfile_alive "$(svc_pidfile "$1")"; }

healthy() {
    local code
    code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$(svc_port "$1")/healthz" 2>/dev/null || true)"
    [[ "$code" == "200" ]]
}

check_names() {
    local n
    for n in "$@"; do
        svc_port "$n" >/dev/null || die "unknown service '$n' (known: ${ALL_SERVICES[*]})"
    done
}

# launch NAME: start the executable in the background unless it is already running.
launch() {
    local name="$1" exe="$BIN_DIR/$1" pidfile log pid port
    pidfile="$(svc_pidfile "$name")"
    log="$(svc_log "$name")"
    port="$(svc_port "$name")"
    if svc_running "$name"; then
        log "$name: already running (pid $(read_pid "$pidfile"))"
        return 0
    fi
    [[ -x "$exe" ]] || die "$name: executable $exe not found (build first, or set CONVEYOR_BIN_DIR)"
    if port_open 127.0.0.1 "$port"; then
        die "$name: port $port is already in use by a process we did not start: $(port_owner "$port")"
    fi
    printf '\n==== %s services.sh: starting %s\n' "$(date -Is)" "$exe" >> "$log"
    # setsid does not fork here (a background job of a non-interactive shell is not a
    # group leader), so $! is the service's own PID; it also shields it from Ctrl-C.
    (cd "$CONVEYOR_REPO_ROOT" && exec setsid "$exe") >> "$log" 2>&1 </dev/null &
    pid=$!
    echo "$pid" > "$pidfile"
}

# wait_healthy NAME...: wait until every named service answers /healthz with 200.
wait_healthy() {
    local start=$SECONDS pending=("$@") still n
    while ((${#pending[@]} > 0)); do
        still=()
        for n in "${pending[@]}"; do
            if ! svc_running "$n"; then
                tail_log "$(svc_log "$n")" 30
                die "$n: exited during startup (log: $(svc_log "$n"))"
            fi
            if healthy "$n"; then
                log "$n: healthy (pid $(read_pid "$(svc_pidfile "$n")"))  http://127.0.0.1:$(svc_port "$n")/healthz"
            else
                still+=("$n")
            fi
        done
        pending=("${still[@]+"${still[@]}"}")
        ((${#pending[@]} == 0)) && break
        if ((SECONDS - start >= TIMEOUT)); then
            for n in "${pending[@]}"; do
                tail_log "$(svc_log "$n")" 30
            done
            die "not healthy after ${TIMEOUT}s: ${pending[*]}"
        fi
        sleep 0.25
    done
}

# bootstrap_admin_token: the local admin token in $STATE/admin-token (mode 0600), issued through
# metadata unless the file already holds a valid one; clients of the local platform (the demo, the
# tests, the benchmarks) read it from there.
bootstrap_admin_token() {
    local admin="$BIN_DIR/conveyor-admin"
    [[ -x "$admin" ]] || die "conveyor-admin: executable $admin not found (build first, or set CONVEYOR_BIN_DIR)"
    (cd "$CONVEYOR_REPO_ROOT" && "$admin" tokens bootstrap --file "$STATE/admin-token") || die "could not issue the local admin token"
}

cmd_start() {
    local names=("$@") n rest=()
    ((${#names[@]} > 0)) || names=("${ALL_SERVICES[@]}")
    check_names "${names[@]}"
    mkdir -p "$LOG_DIR" "$RUN_DIR"
    log "services: binaries from $BIN_DIR"
    # metadata first (others depend on it), then everything else in parallel.
    for n in "${names[@]}"; do
        if [[ "$n" == metadata ]]; then
            launch metadata
            wait_healthy metadata
            bootstrap_admin_token
        else
            rest+=("$n")
        fi
    done
    ((${#rest[@]} > 0)) || return 0
    for n in "${rest[@]}"; do
        launch "$n"
    done
    wait_healthy "${rest[@]}"
}

cmd_stop() {
    local names=("$@") n pid i
    ((${#names[@]} > 0)) || names=("${ALL_SERVICES[@]}")
    check_names "${names[@]}"
    # Reverse start order: the gateway first, metadata last. Signal all, then wait.
    local pids=() stopping=()
    for ((i = ${#names[@]} - 1; i >= 0; i--)); do
        n="${names[$i]}"
        pid="$(read_pid "$(svc_pidfile "$n")")"
        if [[ -n "$pid" ]] && pid_alive "$pid"; then
            kill -TERM "$pid" 2>/dev/null || true
            pids+=("$pid")
            stopping+=("$n")
        else
            rm -f "$(svc_pidfile "$n")"
            log "$n: not running"
        fi
    done
    for i in "${!pids[@]}"; do
        n="${stopping[$i]}"
        pid="${pids[$i]}"
        if wait_pid_exit "$pid" "$STOP_TIMEOUT"; then
            log "$n: stopped"
        else
            warn "$n: still running after ${STOP_TIMEOUT}s, sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            wait_pid_exit "$pid" 5 || warn "$n: pid $pid did not die"
            log "$n: killed"
        fi
        rm -f "$(svc_pidfile "$n")"
    done
}

cmd_status() {
    local names=("$@") n rc=0
    ((${#names[@]} > 0)) || names=("${ALL_SERVICES[@]}")
    check_names "${names[@]}"
    for n in "${names[@]}"; do
        if svc_running "$n"; then
            if healthy "$n"; then
                log "$n: running, healthy (pid $(read_pid "$(svc_pidfile "$n")"))  :$(svc_port "$n")"
            else
                log "$n: running, NOT healthy (pid $(read_pid "$(svc_pidfile "$n")"))  :$(svc_port "$n")"
                rc=3
            fi
        else
            log "$n: stopped"
            rc=3
        fi
    done
    return "$rc"
}

main() {
    local cmd="${1:-}"
    shift || true
    case "$cmd" in
        start) cmd_start "$@" ;;
        stop) cmd_stop "$@" ;;
        restart)
            cmd_stop "$@"
            cmd_start "$@"
            ;;
        status) cmd_status "$@" ;;
        admin-token) bootstrap_admin_token ;;
        *)
            echo "usage: $0 {start|stop|restart|status|admin-token} [NAME...]   (names: ${ALL_SERVICES[*]})" >&2
            exit 2
            ;;
    esac
}

main "$@"
