#!/usr/bin/env bash
# Checks deploy/monitoring against the running services: promtool checks the Prometheus
# configuration and the alert rules and runs the rules' unit tests (alerts-test.yml); then a real
# Prometheus (Debian's, installed when missing) scrapes every service's /metrics with that
# configuration, and the check passes when every service is up, every rule evaluates without
# error, and every metric the alert rules and the Grafana dashboard name has a series.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/lib.sh
source "$HERE/lib.sh"
cd "$CONVEYOR_REPO_ROOT"
MONITORING="$CONVEYOR_REPO_ROOT/deploy/monitoring"
PORT="${CONVEYOR_PROMETHEUS_PORT:-9091}"
WORK="$STATE/prometheus"

if ! command -v promtool >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
    echo "[monitoring] installing prometheus (for promtool and a server to scrape with)"
    mkdir -p "$STATE/logs"
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends prometheus \
        >> "$STATE/logs/apt.log" 2>&1 || {
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update >> "$STATE/logs/apt.log" 2>&1
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends prometheus \
            >> "$STATE/logs/apt.log" 2>&1
    }
    # The package starts its own server where an init system runs; this check runs its own.
    pkill -u prometheus -x prometheus 2>/dev/null || true
fi

echo "[monitoring] promtool: configuration, rules and the rules' unit tests"
promtool check config "$MONITORING/prometheus.yml"
promtool test rules "$MONITORING/alerts-test.yml"

rm -rf "$WORK"
mkdir -p "$WORK"
# The same configuration, scraped and evaluated every second.
sed -e 's/scrape_interval: 15s/scrape_interval: 1s/' -e 's/evaluation_interval: 15s/evaluation_interval: 1s/' \
    -e "s#- alerts.yml#- $MONITORING/alerts.yml#" "$MONITORING/prometheus.yml" > "$WORK/prometheus.yml"
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/data" \
    --web.listen-address="127.0.0.1:$PORT" --log.level=warn > "$WORK/prometheus.log" 2>&1 &
PROMETHEUS_PID=$!
trap 'kill "$PROMETHEUS_PID" 2>/dev/null || true; wait "$PROMETHEUS_PID" 2>/dev/null || true' EXIT

echo "[monitoring] Prometheus on 127.0.0.1:$PORT scraping the services"
/usr/bin/python3 - "$PORT" "$MONITORING" <<'PY'
import json, re, sys, time, urllib.parse, urllib.request

port, monitoring = sys.argv[1], sys.argv[2]

def query(expr):
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.load(answer)["data"]["result"]

def get(path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
        return json.load(answer)["data"]

texts = open(f"{monitoring}/alerts.yml").read() + open(f"{monitoring}/grafana-dashboard.json").read()
# Every metric must have a series, except the RPC failures: their series appear with the first
# failure of each call type (nothing to count before).
names = sorted(set(re.findall(r"\b((?:conveyor|hb|http_server)_[a-z0-9_]+)", texts)) - {"conveyor_rpc_client_failures_total"})
problems = []
deadline = time.time() + 60
while True:
    problems = []
    try:
        up = {r["metric"].get("service"): r["value"][1] for r in query('up{job="conveyor"}')}
        services = ["api-gateway", "metadata", "scheduler", "importer", "exporter", "runner", "notifier"]
        problems += [f"{s} is not up (up={up.get(s)})" for s in services if up.get(s) != "1"]
        problems += [f"no series of {name}" for name in names if not query(f'count({{__name__="{name}"}})')]
        rules = [rule for group in get("/api/v1/rules")["groups"] for rule in group["rules"]]
        if len(rules) != 10:
            problems.append(f"{len(rules)} rules loaded, expected 10")
        problems += [f"rule {r['name']}: {r.get('lastError') or r['health']}" for r in rules if r["health"] != "ok"]
    except Exception as error:  # Prometheus still starting
        problems.append(f"Prometheus not answering: {error}")
    if not problems or time.time() > deadline:
        break
    time.sleep(1)
if problems:
    print("[monitoring] FAILED:\n  " + "\n  ".join(problems))
    sys.exit(1)
print(f"[monitoring] passed: 7 services up, 10 rules evaluated, {len(names)} metrics of the rules and the dashboard present")
PY
