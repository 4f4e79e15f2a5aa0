#!/usr/bin/env bash
# The services on a three-node RabbitMQ cluster (deploy/local/rabbitmq-cluster.sh) with quorum
# queues and every node's address in amqp.url, under a load of jobs with e-mail
# (conveyor-chaos --cluster-node 1, CLUSTER_JOBS=2000): node 1, the one every connection starts
# on, is stopped mid-load and started again; it passes when every job SUCCEEDED exactly once with
# exactly one e-mail, and a probe job succeeded while the node was away and after it came back.
# The services go back to the single node afterwards (services.sh restarts them on the next start).
set -euo pipefail
umask 022
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/lib.sh
source "$HERE/lib.sh"
cd "$CONVEYOR_REPO_ROOT"
run_begin cluster
run_infra_up
step "the RabbitMQ cluster (rabbitmq-cluster.sh up)"
bash "$HERE/rabbitmq-cluster.sh" up
run_debug_build
AMQP_URL="$(bash "$HERE/rabbitmq-cluster.sh" urls)"
export AMQP_URL
export AMQP_QUEUE_TYPE=quorum
export SCHEDULER_WORKER_TIMEOUT_SECONDS=8
export WORKER_LEASE_SECONDS=6
export NOTIFIER_MAX_BACKOFF_SECONDS=5
export CONVEYOR_GATEWAY_URL="http://127.0.0.1:${GATEWAY_PORT:-8080}"
step "services on $AMQP_URL, quorum queues"
run_services_start
step "running conveyor-chaos --jobs ${CLUSTER_JOBS:-2000} --cluster-node 1"
rc=0
"$CONVEYOR_BIN_DIR/conveyor-chaos" --jobs "${CLUSTER_JOBS:-2000}" --cluster-node 1 --settle "${CLUSTER_SETTLE:-300}" || rc=$?
step "conveyor-chaos exited with $rc; quorum queues:"
bash "$HERE/rabbitmq-cluster.sh" ctl 2 list_queues name type messages leader 2>/dev/null | head -n 20 || true
bash "$HERE/services.sh" stop || true
if [[ "${CI:-}" == "true" || "${CLUSTER_DOWN:-}" == "1" ]]; then bash "$HERE/rabbitmq-cluster.sh" down || true; fi
exit "$rc"
