#!/usr/bin/env bash
# Worker "hosts" on this machine: each a network namespace of its own (as a remote host is a
# network of its own) with a mount namespace per worker in which the internal storage is seen where
# a remote host would mount its shared volume, not where this machine keeps it.
#
#   deploy/local/hosts.sh up N                 namespaces conveyor-host1..N: a veth pair each
#                                              (host side 10.77.K.1, namespace 10.77.K.2) and a
#                                              forwarder on 10.77.K.1:5672 to the broker
#   deploy/local/hosts.sh start K [SERVICE...] start workers (runner, importer, exporter; default
#                                              runner) in host K, wait until they are healthy
#   deploy/local/hosts.sh stop [K [SERVICE...]] SIGTERM (SIGKILL after 15 s) the workers of host K (all)
#   deploy/local/hosts.sh cut K | heal K       take host K's link down (packets are dropped, nothing
#                                              is closed: a network partition) or up again
#   deploy/local/hosts.sh down                 stop every worker, remove the namespaces
#
# A worker in host K sees:
#   - the broker at amqp://guest:guest@10.77.K.1:5672/ (its only route out of the namespace);
#   - the internal storage at $CONVEYOR_STATE/hosts/K/shared/storage (storage.root), a bind mount
#     of the services' storage.root (STORAGE_ROOT, .conveyor/storage); the machine's own path of it is covered by
#     an empty folder in that namespace, so nothing reaches the storage by the local path;
#   - its own work folder ($CONVEYOR_STATE/hosts/K/work) and export root;
#   - its health port on 10.77.K.2 (health.host), model users of its own id range, and the host name
#     conveyor-hostK (in its worker id).
# Logs: $CONVEYOR_STATE/logs/<service>-hostK.log, pids: $CONVEYOR_STATE/run/<service>-hostK.pid.
# Needs root (network and mount namespaces), ip (iproute2), socat.
set -euo pipefail
umask 022

# shellcheck source=deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BIN_DIR="${CONVEYOR_BIN_DIR:-$CONVEYOR_REPO_ROOT/.build/debug}"
AMQP_PORT="${CONVEYOR_AMQP_PORT:-5672}"
TIMEOUT="${CONVEYOR_SERVICES_TIMEOUT:-60}"
HOSTS_DIR="$STATE/hosts"
# The internal storage the services use (storage.root), which the hosts' workers see shared.
SHARED_STORAGE="${STORAGE_ROOT:-$CONVEYOR_REPO_ROOT/.conveyor/storage}"
[[ "$SHARED_STORAGE" == /* ]] || SHARED_STORAGE="$CONVEYOR_REPO_ROOT/$SHARED_STORAGE"

namespace() { echo "conveyor-host$1"; }
host_link() { echo "cvh$1"; }
guest_link() { echo "cvg$1"; }
host_address() { echo "10.77.$1.1"; }
guest_address() { echo "10.77.$1.2"; }
worker_name() { echo "$2-host$1"; }
health_port() {
    case "$1" in
        runner | importer | exporter) service_port "$1" ;;
        *) die "hosts run runners, importers and exporters, not '$1'" ;;
    esac
}
check_host() { [[ "$1" =~ ^[1-9][0-9]?$ ]] || die "a host is a number from 1 to 99, not '$1'"; }
host_exists() { ip netns list | grep -qw "$(namespace "$1")"; }
existing_hosts() { ip netns list | sed -n 's/^conveyor-host\([0-9]*\).*/\1/p' | sort -n; }

cmd_up() {
    local count="${1:-}" k ns
    [[ "$count" =~ ^[1-9][0-9]?$ ]] || die "usage: hosts.sh up N (1 to 99 hosts)"
    [[ $EUID -eq 0 ]] || die "hosts.sh needs root (network and mount namespaces)"
    command -v socat >/dev/null || die "socat is missing (apt-get install socat)"
    for ((k = 1; k <= count; k++)); do
        ns="$(namespace "$k")"
        mkdir -p "$HOSTS_DIR/$k/work" "$HOSTS_DIR/$k/exports" "$HOSTS_DIR/$k/shared/storage" "$HOSTS_DIR/$k/empty" "$RUN_DIR" "$LOG_DIR" "$SHARED_STORAGE"
        # A host whose link is missing (a run that failed half-way) is made again from nothing.
        if ! ip link show "$(host_link "$k")" >/dev/null 2>&1; then
            if host_exists "$k"; then ip netns del "$ns"; fi
            ip netns add "$ns"
            ip link add "$(host_link "$k")" type veth peer name "$(guest_link "$k")"
            ip link set "$(guest_link "$k")" netns "$ns"
            ip addr add "$(host_address "$k")/30" dev "$(host_link "$k")"
            ip link set "$(host_link "$k")" up
            ip netns exec "$ns" ip addr add "$(guest_address "$k")/30" dev "$(guest_link "$k")"
            ip netns exec "$ns" ip link set "$(guest_link "$k")" up
            ip netns exec "$ns" ip link set lo up
        fi
        ip link set "$(host_link "$k")" up  # healed, if an earlier run left it cut
        if ! pidfile_alive "$RUN_DIR/forwarder-host$k.pid"; then
            # The broker sees the forwarder's loopback connections (RabbitMQ lets guest in only from
            # loopback); what the namespace sends reaches it only over the veth link.
            setsid socat "TCP-LISTEN:$AMQP_PORT,bind=$(host_address "$k"),fork,reuseaddr" "TCP:127.0.0.1:$AMQP_PORT" \
                >> "$LOG_DIR/forwarder-host$k.log" 2>&1 < /dev/null &
            echo $! > "$RUN_DIR/forwarder-host$k.pid"
        fi
        log "host $k: namespace $ns, $(guest_address "$k") -> broker at $(host_address "$k"):$AMQP_PORT"
    done
}

healthy_in() {
    local k="$1" service="$2" code
    code="$(curl -s -o /dev/null -m 2 -w '%{http_code}' "http://$(guest_address "$k"):$(health_port "$service")/healthz" 2>/dev/null || true)"
    [[ "$code" == "200" ]]
}

cmd_start() {
    local k="${1:-}" services=() service name exe pidfile log uids pid start
    check_host "$k"
    shift
    services=("$@")
    ((${#services[@]} > 0)) || services=(runner)
    host_exists "$k" || die "host $k does not exist (hosts.sh up N first)"
    for service in "${services[@]}"; do
        health_port "$service" >/dev/null
        name="$(worker_name "$k" "$service")"
        pidfile="$RUN_DIR/$name.pid"
        log="$LOG_DIR/$name.log"
        exe="$BIN_DIR/$service"
        [[ -x "$exe" ]] || die "$service: executable $exe not found (build first, or set CONVEYOR_BIN_DIR)"
        if pidfile_alive "$pidfile"; then
            log "$name: already running (pid $(read_pid "$pidfile"))"
            continue
        fi
        # Model users of the host's own range: 61000 + 100 k.
        uids="$((61000 + 100 * k))-$((61000 + 100 * k + 63))"
        printf '\n==== %s hosts.sh: starting %s in host %s\n' "$(date -Is)" "$exe" "$k" >> "$log"
        # The worker's own mount namespace: the shared storage at the host's path of it, the local
        # path covered; `exec` keeps the worker's pid the one recorded.
        (cd "$CONVEYOR_REPO_ROOT" && exec setsid ip netns exec "$(namespace "$k")" unshare --mount --uts --propagation private \
            env AMQP_URL="amqp://guest:guest@$(host_address "$k"):$AMQP_PORT/" \
            STORAGE_ROOT="$HOSTS_DIR/$k/shared/storage" RUNNER_WORK_DIR="$HOSTS_DIR/$k/work" \
            EXPORT_ROOT="$HOSTS_DIR/$k/exports" HEALTH_HOST="$(guest_address "$k")" RUNNER_RUN_AS_UIDS="$uids" \
            SHARED="$SHARED_STORAGE" VIEW="$HOSTS_DIR/$k/shared/storage" EMPTY="$HOSTS_DIR/$k/empty" EXE="$exe" \
            HOST="$(namespace "$k")" \
            sh -c 'hostname "$HOST" && mount --bind "$SHARED" "$VIEW" && mount --bind "$EMPTY" "$SHARED" && unset SHARED VIEW EMPTY HOST && exec "$EXE"') \
            >> "$log" 2>&1 < /dev/null &
        echo $! > "$pidfile"
    done
    start=$SECONDS
    for service in "${services[@]}"; do
        name="$(worker_name "$k" "$service")"
        until healthy_in "$k" "$service"; do
            if ! pidfile_alive "$RUN_DIR/$name.pid"; then
                tail_log "$LOG_DIR/$name.log" 30
                die "$name: exited during startup"
            fi
            ((SECONDS - start < TIMEOUT)) || die "$name: not healthy after ${TIMEOUT}s"
            sleep 0.25
        done
        pid="$(read_pid "$RUN_DIR/$name.pid")"
        log "$name: healthy (pid $pid) http://$(guest_address "$k"):$(health_port "$service")/healthz"
    done
}

cmd_stop() {
    local hosts=() k service services=("${@:2}") pidfile
    if [[ -n "${1:-}" ]]; then
        check_host "$1"
        hosts=("$1")
    else
        # Every host with a namespace or a worker's pid file.
        mapfile -t hosts < <({ existing_hosts; ls "$RUN_DIR" 2>/dev/null | sed -n 's/^[a-z]*-host\([0-9]*\)\.pid$/\1/p'; } | sort -nu)
    fi
    ((${#services[@]} > 0)) || services=(runner importer exporter)
    for k in "${hosts[@]}"; do
        for service in "${services[@]}"; do
            pidfile="$RUN_DIR/$(worker_name "$k" "$service").pid"
            [[ -f "$pidfile" ]] || continue
            kill_pid "$(read_pid "$pidfile")" 15 || warn "$(worker_name "$k" "$service"): did not die"
            rm -f "$pidfile"
            log "$(worker_name "$k" "$service"): stopped"
        done
    done
}

cmd_cut() {
    check_host "${1:-}"
    ip link set "$(host_link "$1")" down
    log "host $1: link down (cut off)"
}

cmd_heal() {
    check_host "${1:-}"
    ip link set "$(host_link "$1")" up
    log "host $1: link up"
}

cmd_down() {
    local k file pid
    cmd_stop
    # Every forwarder with its forked children (setsid made each a process group of its own). With
    # SIGKILL: one started by a process that blocks SIGTERM (a test runner) inherits that mask, and
    # a forwarder has nothing to finish.
    for file in "$RUN_DIR"/forwarder-host*.pid; do
        [[ -e "$file" ]] || continue
        pid="$(read_pid "$file")"
        if [[ -n "$pid" ]]; then kill -KILL -- "-$pid" 2>/dev/null || true; fi
        rm -f "$file"
    done
    for k in $(existing_hosts); do
        ip link del "$(host_link "$k")" 2>/dev/null || true
        ip netns del "$(namespace "$k")" || warn "host $k: could not remove its namespace"
        log "host $k: removed"
    done
}

main() {
    local cmd="${1:-}"
    shift || true
    case "$cmd" in
        up) cmd_up "$@" ;;
        start) cmd_start "$@" ;;
        stop) cmd_stop "$@" ;;
        cut) cmd_cut "$@" ;;
        heal) cmd_heal "$@" ;;
        down) cmd_down ;;
        *)
            echo "usage: $0 {up N|start K [runner|importer|exporter...]|stop [K [SERVICE...]]|cut K|heal K|down}" >&2
            exit 2
            ;;
    esac
}

main "$@"
