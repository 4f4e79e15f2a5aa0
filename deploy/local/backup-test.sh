#!/usr/bin/env bash
# Backup and restore, tested against the running system: a backup (deploy/local/backup.sh) of the
# database and the internal storage as they are, restored into a fresh state folder with its own
# PostgreSQL (port 5434), then every table's rows and every object's content read back and
# compared with the backup's manifest. Then one restored file is changed and the check must fail:
# the check can tell.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/lib.sh
source "$HERE/lib.sh"
cd "$CONVEYOR_REPO_ROOT"
PORT="${CONVEYOR_RESTORE_PG_PORT:-5434}"
BACKUP="$STATE/backup-check/backup"
TARGET="$STATE/backup-check/restored"

cleanup() {
    [[ -d "$TARGET/postgres" ]] && CONVEYOR_STATE="$TARGET" CONVEYOR_PG_PORT="$PORT" bash "$HERE/infra.sh" postgres-down >/dev/null 2>&1 || true
}
trap cleanup EXIT
cleanup
rm -rf "$STATE/backup-check"
mkdir -p "$STATE/backup-check"

bash "$HERE/backup.sh" backup "$BACKUP"
bash "$HERE/backup.sh" restore "$BACKUP" "$TARGET" "$PORT"
bash "$HERE/backup.sh" verify "$BACKUP" "$TARGET" "$PORT"

# A restore that lost a byte must not pass.
victim=""
while read -r _ _ path _; do
    candidate="$(find "$TARGET/storage/$path" -type f -size +0 2>/dev/null | head -n 1 || true)"
    if [[ -n "$candidate" ]]; then victim="$candidate"; break; fi
done < "$BACKUP/objects.txt"
[[ -n "$victim" ]] || die "backup-test: no stored file to change"
printf 'X' | dd of="$victim" bs=1 count=1 conv=notrunc status=none
if bash "$HERE/backup.sh" verify "$BACKUP" "$TARGET" "$PORT" > "$STATE/backup-check/changed.log" 2>&1; then
    die "backup-test: verify passed although $victim was changed"
fi
log "backup-test: a changed file is caught ($(grep -c '^[<>]' "$STATE/backup-check/changed.log" || true) lines of difference)"
log "backup-test: passed"
