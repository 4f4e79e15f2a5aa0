#!/usr/bin/env bash
# Start/stop the Conveyor service executables as background processes.
#
#   deploy/local/services.sh start [NAME...]    start all (metadata first) or the named ones, wait for /healthz
#   deploy/local/services.sh stop [NAME...]     SIGTERM, wait up to 15 s, then SIGKILL
#   deploy/local/services.sh restart [NAME...]
#   deploy/local/services.sh status [NAME...]   exit 3 if one is not running/healthy
#   deploy/local/services.sh rolling-restart [NAME...]
#                                               each running instance of each named service (or of
#                                               all) in turn: stop, start, healthy, then the next
#   deploy/local/services.sh admin-token        issue the local admin token again unless
#                                               $CONVEYOR_STATE/admin-token holds a valid one
#
# A NAME may name a further instance of a service: `scheduler@2` is a second scheduler, with its
# own pid file and log, its ports (health; the gateway's HTTP and metrics) 10 above the first's
# (20 above for @3, ...), and, for a runner with runner.runAsUids (RUNNER_RUN_AS_UIDS=a-b), the
# next range of as many ids, so that no two runners of the host share a model user. `stop` without
# names stops every instance (instances 1 to 9). (deploy/local/rolling-test.sh restarts two of each in turn under load.)
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

# svc_base NAME: the service of an instance name (scheduler@2 -> scheduler).
svc_base() { echo "${1%@*}"; }
# svc_instance NAME: the instance's number (scheduler@2 -> 2, scheduler -> 1).
svc_instance() { if [[ "$1" == *@* ]]; then echo "${1##*@}"; else echo 1; fi; }

# svc_port_variable NAME: the environment variable that sets the service's port.
svc_port_variable() {
    case "$(svc_base "$1")" in
        api-gateway) echo GATEWAY_PORT ;;
        *) echo "$(svc_base "$1" | tr '[:lower:]-' '[:upper:]_')_HEALTH_PORT" ;;
    esac
}

svc_port() {
    local base instance
    base="$(service_port "$(svc_base "$1")")" || return 1
    instance="$(svc_instance "$1")"
    [[ "$instance" =~ ^[1-9]$ ]] || return 1
    echo $((base + 10 * (instance - 1)))
}

# instance_environment NAME: the VAR=value settings that set instance NAME apart from the first.
instance_environment() {
    local n="$1" offset first last count
    offset=$(($(svc_instance "$n") - 1))
    echo "$(svc_port_variable "$n")=$(svc_port "$n")"
    # The gateway's metrics are on a port of their own (gateway.health.port).
    [[ "$(svc_base "$n")" != api-gateway ]] || echo "GATEWAY_HEALTH_PORT=$((${GATEWAY_HEALTH_PORT:-8180} + 10 * offset))"
    if [[ "$(svc_base "$n")" == runner && "${RUNNER_RUN_AS_UIDS:-}" =~ ^([0-9]+)-([0-9]+)$ ]]; then
        first="${BASH_REMATCH[1]}" last="${BASH_REMATCH[2]}"
        count=$((last - first + 1))
        echo "RUNNER_RUN_AS_UIDS=$((first + offset * count))-$((last + offset * count))"
    fi
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
    local name="$1" exe pidfile log pid port environment=()
    exe="$BIN_DIR/$(svc_base "$name")"
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
    mapfile -t environment < <(instance_environment "$name")
    printf '\n==== %s services.sh: starting %s (%s)\n' "$(date -Is)" "$exe" "${environment[*]}" >> "$log"
    # setsid does not fork here (a background job of a non-interactive shell is not a
    # group leader), so $! is the service's own PID; it also shields it from Ctrl-C.
    (cd "$CONVEYOR_REPO_ROOT" && exec env "${environment[@]}" setsid "$exe") >> "$log" 2>&1 </dev/null &
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

# running_instances: the further instances (NAME@N) that have a pid file.
running_instances() {
    local file
    local name
    for file in "$RUN_DIR"/*@*.pid; do
        [[ -e "$file" ]] || continue
        name="$(basename "$file" .pid)"
        svc_port "$name" >/dev/null && echo "$name"
    done
    return 0
}

# names_or_all [NAME...]: the names given, or every service and every running further instance.
names_or_all() {
    if (($# > 0)); then
        printf '%s\n' "$@"
    else
        printf '%s\n' "${ALL_SERVICES[@]}"
        running_instances
    fi
}

cmd_stop() {
    local names n pid i
    mapfile -t names < <(names_or_all "$@")
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

cmd_rolling_restart() {
    local names=("$@") n instance
    ((${#names[@]} > 0)) || names=("${ALL_SERVICES[@]}")
    check_names "${names[@]}"
    for n in "${names[@]}"; do
        for instance in "$n" $(running_instances | grep -F "$n@" || true); do
            [[ "$(svc_base "$instance")" == "$(svc_base "$n")" ]] && svc_running "$instance" || continue
            log "rolling restart: $instance"
            cmd_stop "$instance"
            cmd_start "$instance"
        done
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
            local names
            mapfile -t names < <(names_or_all "$@")
            cmd_stop "${names[@]}"
            cmd_start "${names[@]}"
            ;;
        status)
            local names
            mapfile -t names < <(names_or_all "$@")
            cmd_status "${names[@]}"
            ;;
        rolling-restart) cmd_rolling_restart "$@" ;;
        admin-token) bootstrap_admin_token ;;
        *)
            echo "usage: $0 {start|stop|restart|rolling-restart|status|admin-token} [NAME...]   (names: ${ALL_SERVICES[*]})" >&2
            exit 2
            ;;
    esac
}

main "$@"
