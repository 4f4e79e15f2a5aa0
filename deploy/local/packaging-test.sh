#!/usr/bin/env bash
# Checks the deployment files without a container engine or a cluster (this machine has neither):
#   - deploy/systemd: `systemd-analyze verify` of every unit (ExecStart pointed at /bin/true: the
#     binaries are not installed here); any complaint fails, also the ones systemd only warns about.
#   - deploy/kubernetes: every manifest against the Kubernetes OpenAPI schemas, strictly (unknown
#     fields fail), with kubernetes-validate (pinned, installed into .conveyor/tools); the
#     kustomization lists every manifest.
#   - deploy/compose and deploy/docker: the Compose file runs the seven services from the image the
#     Dockerfile builds, each probed on its own health port; the Dockerfile copies every service's
#     executable, each a product of Package.swift, and copies only files that exist.
# What is not run here: `docker build`, `docker compose up`, `kubectl apply` (see deploy/README.md).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/lib.sh
source "$HERE/lib.sh"
cd "$CONVEYOR_REPO_ROOT"
KV_VERSION="1.37.0"
K8S_VERSION="1.31.0"
TOOLS="$STATE/tools/kubernetes-validate-$KV_VERSION"

echo "[packaging] systemd units (systemd-analyze verify)"
command -v systemd-analyze >/dev/null 2>&1 || {
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends systemd >> "$STATE/logs/apt.log" 2>&1
}
UNITS="$(mktemp -d)"
trap 'rm -rf "$UNITS"' EXIT
# The binaries are installed in /usr/local/bin on a host; here ExecStart runs /bin/true in their
# place (verify checks that the command exists), so the check needs no build and runs beside it.
for unit in deploy/systemd/*.service deploy/systemd/*.target; do
    sed "s#^ExecStart=/usr/local/bin/.*#ExecStart=/bin/true#" "$unit" > "$UNITS/$(basename "$unit")"
done
complaints="$(cd "$UNITS" && systemd-analyze verify ./*.service ./*.target 2>&1)" || {
    echo "$complaints"
    die "systemd-analyze verify failed"
}
[[ -z "$complaints" ]] || { echo "$complaints"; die "systemd-analyze verify complained"; }
echo "[packaging] $(ls deploy/systemd | wc -l) units verified"

echo "[packaging] Kubernetes manifests (kubernetes-validate $KV_VERSION --strict, Kubernetes $K8S_VERSION)"
if [[ ! -x "$TOOLS/bin/kubernetes-validate" ]]; then
    rm -rf "$TOOLS"
    /usr/bin/python3 -m venv "$TOOLS"
    "$TOOLS/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$KV_VERSION"
fi
mapfile -t manifests < <(ls deploy/kubernetes/*.yaml | grep -v kustomization.yaml)
"$TOOLS/bin/kubernetes-validate" --strict --quiet -k "$K8S_VERSION" "${manifests[@]}"

echo "[packaging] kustomization, Compose file and Dockerfile"
"$TOOLS/bin/python" - <<'PY'
import os, re, sys, yaml

problems = []
root = "deploy/kubernetes"
listed = yaml.safe_load(open(f"{root}/kustomization.yaml"))["resources"]
present = sorted(f for f in os.listdir(root) if f.endswith(".yaml") and f != "kustomization.yaml")
problems += [f"kustomization lists {f}, which does not exist" for f in listed if f not in present]
problems += [f"kustomization does not list {f}" for f in present if f not in listed]

services = {"metadata": 8181, "scheduler": 8182, "importer": 8183, "exporter": 8184, "runner": 8185, "notifier": 8186, "api-gateway": 8080}
compose = yaml.safe_load(open("deploy/compose/compose.yaml"))
for name, port in services.items():
    service = compose["services"].get(name)
    if service is None:
        problems.append(f"compose: no service {name}")
        continue
    if service.get("command") != [name]:
        problems.append(f"compose: {name} runs {service.get('command')}")
    if service.get("build", {}).get("dockerfile") != "deploy/docker/Dockerfile":
        problems.append(f"compose: {name} is not built from deploy/docker/Dockerfile")
    probe = " ".join(service.get("healthcheck", {}).get("test", []))
    if f":{port}/healthz" not in probe:
        problems.append(f"compose: {name} is not probed on :{port}/healthz ({probe!r})")
for infra in ["rabbitmq", "postgres", "mailpit"]:
    if infra not in compose["services"]:
        problems.append(f"compose: no {infra}")

dockerfile = open("deploy/docker/Dockerfile").read()
package = open("Package.swift").read()
products = set(re.findall(r'\.executable\(name: "([^"]+)"', package)) | set(re.findall(r'\("([a-z-]+)", "[A-Za-z]+", \[', package))
copied = re.search(r"for product in ([a-z -]+); do", dockerfile)
copied = copied.group(1).split() if copied else []
problems += [f"Dockerfile copies {p}, not a product of Package.swift" for p in copied if p not in products]
problems += [f"Dockerfile does not copy the service {s}" for s in services if s not in copied]
for source in re.findall(r"^COPY (?!--from)(\S+)", dockerfile, re.M):
    if not os.path.exists(source):
        problems.append(f"Dockerfile copies {source}, which does not exist")
if not re.search(r"^USER (?!root)", dockerfile, re.M):
    problems.append("Dockerfile: the image does not run as a user of its own")
if problems:
    print("[packaging] FAILED:\n  " + "\n  ".join(problems))
    sys.exit(1)
print(f"[packaging] {len(listed)} manifests listed, {len(services)} services in Compose, Dockerfile consistent")
PY
echo "[packaging] passed"
