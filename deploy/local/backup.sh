#!/usr/bin/env bash
# Back up and restore what Conveyor keeps: the PostgreSQL database (jobs, history, logs, objects,
# tags, tokens, audit, the notifier's deliveries) and the internal storage (storage.root: models,
# data, uploaded files, logs, Python environments live beside it in environments.root and are
# rebuilt on demand).
#
#   deploy/local/backup.sh backup [DIR]              pg_dump (one consistent snapshot), then the
#                                                    storage as a tar, and a manifest: the rows of
#                                                    every table and the SHA-256 of every object's
#                                                    stored content (default DIR: .conveyor/backups/<time>)
#   deploy/local/backup.sh restore DIR STATE [PORT]  into a fresh state folder STATE: its own
#                                                    PostgreSQL on PORT (default 5434) and storage
#   deploy/local/backup.sh verify DIR STATE [PORT]   reads every object of the restored database
#                                                    back from the restored storage and compares it
#                                                    (and every table's rows) with the manifest
#
# The storage is copied after the database snapshot: storage is append-only, so every file the
# snapshot names exists in the copy (files written after it are copied too and are harmless).
# Run it against a running system; the restore never touches the state folder it came from.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/local/lib.sh
source "$HERE/lib.sh"
cd "$CONVEYOR_REPO_ROOT"
PG_BIN=/usr/lib/postgresql/15/bin
PG_PORT="${CONVEYOR_PG_PORT:-5433}"
STORAGE_ROOT="${STORAGE_ROOT:-$STATE/storage}"

psql_at() {
    local port="$1" db="$2"
    shift 2
    "$PG_BIN/psql" -h 127.0.0.1 -p "$port" -U conveyor -d "$db" -tAq -v ON_ERROR_STOP=1 "$@"
}

# The SQL that lists every base table with its rows, as `table|rows` lines (run with \gexec).
TABLE_COUNTS_SQL="SELECT format('SELECT %L, count(*) FROM %s', table_schema || '.' || table_name, quote_ident(table_schema) || '.' || quote_ident(table_name))
FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
# Every object version with content: `id vN path db-digest`, where a job's log (kept in the
# database as chunks unless written as a file) has the SHA-256 of its chunks and others `-`.
OBJECTS_SQL="SELECT o.object_id || ' v' || o.object_version || ' ' || o.storage_path || ' ' || COALESCE(CASE
    WHEN o.storage_path ~ '^logs/[0-9a-f-]{36}/attempt-[0-9]+[.]log$' THEN (
        SELECT encode(sha256(string_agg(c.data, ''::bytea ORDER BY c.byte_offset)), 'hex') FROM job_log_chunks c
        WHERE c.job_id = split_part(o.storage_path, '/', 2)::uuid AND c.attempt = substring(o.storage_path FROM 'attempt-([0-9]+)')::int)
    END, '-')
FROM objects o WHERE o.storage_path IS NOT NULL ORDER BY o.object_id, o.object_version"

# digest ROOT < objects: each `id vN path db-digest` line with the SHA-256 of its content: the
# file under ROOT (a folder, a model's files: the digest of its files' sorted digests), else the
# database's (a job's log), else `missing`.
digest() {
    local root="$1" id version path db sum
    while read -r id version path db; do
        [[ -n "$id" ]] || continue
        if [[ -d "$root/$path" ]]; then
            sum="$(cd "$root/$path" && find . -type f -print0 | sort -z | xargs -0r sha256sum | sha256sum | cut -d' ' -f1)"
        elif [[ -f "$root/$path" ]]; then
            sum="$(sha256sum "$root/$path" | cut -d' ' -f1)"
        elif [[ "$db" != "-" && -n "$db" ]]; then
            sum="db:$db"
        else
            sum=missing
        fi
        printf '%s %s %s %s\n' "$id" "$version" "$path" "$sum"
    done
}

cmd_backup() {
    local dir="${1:-$STATE/backups/$(date -u +%Y%m%dT%H%M%SZ)}"
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    # One snapshot for the dump and the manifest: a read-only transaction exports it, pg_dump
    # uses it, and the same transaction counts the rows and lists the objects.
    coproc SNAPSHOT { psql_at "$PG_PORT" conveyor 2>&1; }
    local snapshot_pid="$SNAPSHOT_PID"
    printf '%s\n' "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;" "SELECT pg_export_snapshot();" >&"${SNAPSHOT[1]}"
    local snapshot
    read -r -t 30 snapshot <&"${SNAPSHOT[0]}" || die "backup: no snapshot from PostgreSQL"
    log "backup: database (pg_dump of snapshot $snapshot) into $dir/conveyor.pgdump"
    "$PG_BIN/pg_dump" -h 127.0.0.1 -p "$PG_PORT" -U conveyor -d conveyor -Fc --snapshot="$snapshot" -f "$dir/conveyor.pgdump"
    printf '%s\n' "\\o $dir/tables.txt" "$TABLE_COUNTS_SQL" "\\gexec" "\\o $dir/objects.list" "$OBJECTS_SQL;" "\\o" "COMMIT;" "\\q" >&"${SNAPSHOT[1]}"
    wait "$snapshot_pid" || die "backup: the manifest's transaction failed"
    log "backup: storage ($STORAGE_ROOT) into $dir/storage.tar"
    # Staging folders come and go while jobs run (they are no object's content); tar's exit 1 says
    # a file changed or went while it read, which an append-only storage only has in them.
    local trc=0
    tar -C "$STORAGE_ROOT" --exclude=./.staging --warning=no-file-changed --warning=no-file-removed -cf "$dir/storage.tar" . || trc=$?
    ((trc <= 1)) || die "backup: tar of the storage failed (exit $trc)"
    # The storage is append-only: what the snapshot's objects stored is what is there now.
    digest "$STORAGE_ROOT" < "$dir/objects.list" > "$dir/objects.txt"
    rm -f "$dir/objects.list"
    if grep -q ' missing$' "$dir/objects.txt"; then
        die "backup: objects without their stored content: $(grep -c ' missing$' "$dir/objects.txt")"
    fi
    log "backup: done: $(wc -l < "$dir/tables.txt") tables, $(wc -l < "$dir/objects.txt") object versions with content, $(du -sh "$dir" | cut -f1)"
}

cmd_restore() {
    local dir="$1" target="$2" port="${3:-5434}"
    [[ -f "$dir/conveyor.pgdump" && -f "$dir/storage.tar" ]] || die "restore: $dir holds no backup"
    [[ ! -e "$target/postgres" && ! -e "$target/storage" ]] || die "restore: $target is not a fresh state folder"
    mkdir -p "$target/storage"
    log "restore: PostgreSQL in $target on port $port"
    CONVEYOR_STATE="$target" CONVEYOR_PG_PORT="$port" bash "$HERE/infra.sh" postgres-up
    "$PG_BIN/pg_restore" -h 127.0.0.1 -p "$port" -U conveyor -d conveyor --no-owner --exit-on-error "$dir/conveyor.pgdump"
    log "restore: storage into $target/storage"
    tar -C "$target/storage" -xf "$dir/storage.tar"
    log "restore: done; run the services on it with CONVEYOR_STATE=$target CONVEYOR_PG_PORT=$port"
}

cmd_verify() {
    local dir="$1" target="$2" port="${3:-5434}" problems=0
    [[ -f "$dir/tables.txt" && -f "$dir/objects.txt" ]] || die "verify: $dir has no manifest"
    # Every table has the rows it had in the snapshot.
    local counted
    counted="$(printf '%s\n' "$TABLE_COUNTS_SQL" '\gexec' | psql_at "$port" conveyor)"
    if ! diff <(sort "$dir/tables.txt") <(sort <<< "$counted") >&2; then
        warn "verify: the tables' rows differ from the backup's (< backup, > restored)"
        problems=$((problems + 1))
    fi
    # Every object version with content is there, and its content, read back from the restored
    # storage (or, for a job's log, database), is what the backup read from the original.
    local restored
    restored="$(psql_at "$port" conveyor -c "$OBJECTS_SQL" | digest "$target/storage")"
    if ! diff "$dir/objects.txt" <([[ -z "$restored" ]] || printf '%s\n' "$restored") >&2; then
        warn "verify: objects whose content differs from the backup's (< backup, > restored)"
        problems=$((problems + 1))
    fi
    # FILE objects also carry the SHA-256 they were uploaded (or written) with.
    local mismatched
    mismatched="$(psql_at "$port" conveyor -F ' ' \
        -c "SELECT object_id || ' v' || object_version, definition->'file'->>'sha256' FROM objects WHERE object_type = 'FILE' AND storage_path IS NOT NULL AND definition->'file'->>'sha256' IS NOT NULL" |
        while read -r id version sha; do
            grep -q "^$id $version [^ ]* \(db:\)\?$sha\$" <<< "$restored" || echo "$id $version"
        done)"
    [[ -z "$mismatched" ]] || { warn "verify: FILE objects whose content is not what was recorded: $mismatched"; problems=$((problems + 1)); }
    ((problems == 0)) || die "verify: $problems problems"
    log "verify: $(wc -l < "$dir/tables.txt") tables with the snapshot's rows; $(wc -l < "$dir/objects.txt") object versions read back, each with the backup's content"
}

case "${1:-}" in
    backup) shift; cmd_backup "$@" ;;
    restore) shift; cmd_restore "${1:?backup folder}" "${2:?fresh state folder}" "${3:-5434}" ;;
    verify) shift; cmd_verify "${1:?backup folder}" "${2:?restored state folder}" "${3:-5434}" ;;
    *) echo "usage: $0 {backup [DIR]|restore DIR STATE [PORT]|verify DIR STATE [PORT]}" >&2; exit 2 ;;
esac
