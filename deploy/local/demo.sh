#!/usr/bin/env bash
# The platform's main job, end to end, against the running local stack (`make demo` starts it):
# import the sample model from examples/ (IMPORT_MODEL), run it (RUN_MODEL), export its output
# (EXPORT_DATA), then print the run's status history, its log, the exported file and its e-mail.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/lib.sh
source "$HERE/lib.sh"
cd "$CONVEYOR_REPO_ROOT"
API="${CONVEYOR_GATEWAY_URL:-http://127.0.0.1:${GATEWAY_PORT:-8080}}/api/v1"
EMAIL="${DEMO_EMAIL:-demo@example.com}"
PY=/usr/bin/python3

json() { "$PY" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

# Every request carries an identity: the local admin token (written by services.sh start) issues
# a token for the user "demo", who then owns the jobs below.
TOKEN_FILE="$STATE/admin-token"
[[ -s "$TOKEN_FILE" ]] || die "no admin token in $TOKEN_FILE (deploy/local/services.sh start writes it)"
ADMIN_TOKEN="$(cat "$TOKEN_FILE")"
log "== the local admin token (in $TOKEN_FILE): $ADMIN_TOKEN"
log "== 0. a token for the user 'demo' (POST /api/v1/tokens as the admin, valid 1 day)"
DEMO_TOKEN="$(curl -sS -X POST "$API/tokens" -H "Authorization: Bearer $ADMIN_TOKEN" -H 'Content-Type: application/json' \
    -d '{"principal":"demo","label":"make demo","expiresInDays":1}' | json 'd["token"]')"
AUTH="Authorization: Bearer $DEMO_TOKEN"

submit() {
    local body="$1" response
    response="$(curl -sS -X POST "$API/jobs" -H "$AUTH" -H 'Content-Type: application/json' -d "$body")"
    echo "$response" | json 'd["jobId"]' 2>/dev/null || die "submit failed: $response"
}

# wait_for ID: waits until the job is terminal; prints its final JSON.
wait_for() {
    local id="$1" status job i
    for ((i = 0; i < 600; i++)); do
        job="$(curl -sS -H "$AUTH" "$API/jobs/$id")"
        status="$(echo "$job" | json 'd["status"]')"
        case "$status" in
            SUCCEEDED) echo "$job"; return 0 ;;
            FAILED | CANCELLED) echo "$job"; warn "job $id ended $status"; return 1 ;;
        esac
        sleep 0.2
    done
    die "job $id did not finish in 120 s"
}

# A git repository holding the examples, tagged v1.0, as a team's model repository would be.
REPO="$STATE/demo/model-repo"
rm -rf "$REPO"
mkdir -p "$REPO"
cp -R examples/. "$REPO/"
git -C "$REPO" init -q
git -C "$REPO" add -A
git -C "$REPO" -c user.name=Conveyor -c user.email=demo@localhost commit -qm "sample models"
git -C "$REPO" tag v1.0

log "== 1. IMPORT_MODEL: examples/sample-model from $REPO at v1.0"
IMPORT_ID="$(submit "{\"jobType\":\"IMPORT_MODEL\",\"importModel\":{\"repository\":\"$REPO\",\"path\":\"sample-model\",\"entryPoint\":\"model.py\",\"language\":\"python\",\"version\":\"v1.0\"}}")"
MODEL_ID="$(wait_for "$IMPORT_ID" | json 'd["result"]["objects"][0]["objectId"]')"
log "   job $IMPORT_ID SUCCEEDED; MODEL object $MODEL_ID"

log "== 2. RUN_MODEL: the model with JSON parameters, e-mail to $EMAIL"
RUN_ID="$(submit "{\"jobType\":\"RUN_MODEL\",\"runModel\":{\"model\":{\"objectId\":\"$MODEL_ID\"},\"parameters\":{\"text\":\"the quick brown fox jumps over the lazy dog and the quick cat\",\"top\":3}},\"priority\":60,\"notification\":{\"email\":[\"$EMAIL\"]}}")"
RUN_JOB="$(wait_for "$RUN_ID")"
DATA_ID="$(echo "$RUN_JOB" | json 'd["result"]["outputs"]["summary"]["objectId"]')"
log "   job $RUN_ID SUCCEEDED; DATA object $DATA_ID"

log "== 3. EXPORT_DATA: the output to the local external storage"
EXPORT_PATH="demo/summary-${RUN_ID,,}.json"
EXPORT_ID="$(submit "{\"jobType\":\"EXPORT_DATA\",\"exportData\":{\"inputs\":{\"summary\":{\"objectId\":\"$DATA_ID\"}},\"exports\":{\"summary\":{\"storage\":\"local\",\"path\":\"$EXPORT_PATH\"}}}}")"
wait_for "$EXPORT_ID" >/dev/null
log "   job $EXPORT_ID SUCCEEDED"

log ""
log "== The run's status history (GET /api/v1/jobs/$RUN_ID)"
echo "$RUN_JOB" | json '"\n".join("   %s  %-10s %s" % (u["at"], u["status"], u["message"]) for u in d["updates"])'
log ""
log "== Its log (GET /api/v1/jobs/$RUN_ID/log)"
curl -sS -H "$AUTH" "$API/jobs/$RUN_ID/log" | sed 's/^/   /'
log ""
EXPORT_ROOT="${EXPORT_ROOT:-$CONVEYOR_REPO_ROOT/.conveyor/exports}"
log "== The exported file ($EXPORT_ROOT/$EXPORT_PATH)"
sed 's/^/   /' "$EXPORT_ROOT/$EXPORT_PATH"
log ""
log "== The e-mail that arrived (maildir $STATE/mail/new)"
MAIL=""
for ((i = 0; i < 100; i++)); do
    MAIL="$(grep -l -i "^X-Conveyor-Job-Id: ${RUN_ID,,}" "$STATE"/mail/new/* 2>/dev/null | head -n 1 || true)"
    [[ -n "$MAIL" ]] && break
    sleep 0.2
done
[[ -n "$MAIL" ]] || die "no e-mail for job $RUN_ID arrived in $STATE/mail/new"
"$PY" - "$MAIL" <<'PYEOF'
import email, email.policy, sys
with open(sys.argv[1], "rb") as f:
    message = email.message_from_binary_file(f, policy=email.policy.default)
for header in ("From", "To", "Subject", "Date", "Message-ID"):
    print(f"   {header}: {message[header]}")
print()
body = message.get_body(preferencelist=("plain",)).get_content()
print("\n".join("   " + line for line in body.splitlines()))
PYEOF
log ""
log "Demo complete. The services keep running: 'make down' stops everything."
