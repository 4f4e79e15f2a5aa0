#!/usr/bin/env bash
# Fuzzes the running gateway with schemathesis against the OpenAPI document it serves: every
# operation, generated requests checked for server errors (any 5xx) and for responses that do not
# conform to the document (status code, content type, body schema; each event of an event stream).
#
#   fuzz.sh quick   examples, fuzzing and stateful phases, at most FUZZ_EXAMPLES (50) per
#                   operation, fixed seed (make test runs this; about 1-2 minutes)
#   fuzz.sh full    the same plus the coverage phase (boundary values of every schema keyword,
#                   about 40,000 requests, 5-6 minutes): make fuzz
#
# schemathesis is installed (pinned) into a virtual environment under .conveyor/tools on first use.
# Exits non-zero on any failure; the report is in .conveyor/logs/fuzz.log.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/lib.sh
source "$HERE/lib.sh"
cd "$CONVEYOR_REPO_ROOT"
MODE="${1:-quick}"
SCHEMATHESIS_VERSION="4.32.5"
TOOLS="$CONVEYOR_REPO_ROOT/.conveyor/tools/schemathesis-$SCHEMATHESIS_VERSION"
URL="${CONVEYOR_GATEWAY_URL:-http://127.0.0.1:${GATEWAY_PORT:-8080}}"
LOG="$CONVEYOR_REPO_ROOT/.conveyor/logs/fuzz.log"
mkdir -p "$(dirname "$LOG")"

if [[ ! -x "$TOOLS/bin/schemathesis" ]]; then
    echo "[fuzz] installing schemathesis $SCHEMATHESIS_VERSION into $TOOLS"
    rm -rf "$TOOLS"
    /usr/bin/python3 -m venv "$TOOLS"
    "$TOOLS/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

case "$MODE" in
    quick) PHASES="examples,fuzzing,stateful" ;;
    full) PHASES="examples,coverage,fuzzing,stateful" ;;
    *) echo "usage: $0 {quick|full}" >&2; exit 2 ;;
esac
# As the local admin (every operation is open to it, and 401/403 are covered by the tests). The
# job event stream never ends by itself, so it is left to its own end-to-end test.
TOKEN_FILE="${CONVEYOR_STATE:-$CONVEYOR_REPO_ROOT/.conveyor}/admin-token"
[[ -s "$TOKEN_FILE" ]] || { echo "[fuzz] no admin token in $TOKEN_FILE (deploy/local/services.sh start writes it)" >&2; exit 2; }
echo "[fuzz] schemathesis $MODE ($PHASES) against $URL/api/v1/openapi.yaml; report in $LOG"
rc=0
# From the tools folder: schemathesis keeps its example cache (.schemathesis/) in the current folder.
cd "$TOOLS"
"$TOOLS/bin/schemathesis" run "$URL/api/v1/openapi.yaml" --url "$URL" --header "Authorization: Bearer $(cat "$TOKEN_FILE")" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --exclude-operation-id followEvents --phases "$PHASES" --max-examples "${FUZZ_EXAMPLES:-50}" --seed 20261201 --request-timeout 10 \
    --no-color > "$LOG" 2>&1 || rc=$?
grep -E "generated|passed|failed|Failures|ST[0-9]+" "$LOG" | tail -8 || true
# The stateful phase follows the links of listTokens to revokeToken, so it revokes the tokens it
# lists, the local admin's among them: issue that one again for whatever runs next (the web page
# test, the chaos run, make demo against the running services).
bash "$HERE/services.sh" admin-token
if ((rc != 0)); then
    echo "[fuzz] FAILED (exit $rc): see $LOG"
    sed -n '/FAILURES/,/WARNINGS/p' "$LOG" | head -80
fi
exit "$rc"
