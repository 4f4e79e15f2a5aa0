import Postgres

/// The metadata service's schema, applied in order at start (each version once).
enum MetadataSchema {
    static let migrations: [PostgresMigration] = [
        PostgresMigration(
            version: 1, name: "jobs, status history, logs, objects, outbox",
            sql: """
                CREATE TABLE jobs (
                    job_id uuid PRIMARY KEY,
                    job_type text NOT NULL,
                    owner text NOT NULL,
                    priority int NOT NULL,
                    definition jsonb NOT NULL,
                    status text NOT NULL,
                    status_message text NOT NULL,
                    attempt int NOT NULL DEFAULT 0,
                    worker_id text,
                    lease_until timestamptz,
                    idempotency_key text UNIQUE,
                    submitted_at timestamptz NOT NULL,
                    started_at timestamptz,
                    finished_at timestamptz,
                    result jsonb
                );
                CREATE INDEX jobs_newest ON jobs (submitted_at DESC, job_id DESC);
                CREATE INDEX jobs_active ON jobs (status) WHERE status IN ('QUEUED', 'SUBMITTED', 'RUNNING');

                CREATE TABLE job_updates (
                    job_id uuid NOT NULL REFERENCES jobs (job_id),
                    seq int NOT NULL,
                    status text NOT NULL,
                    message text NOT NULL,
                    at timestamptz NOT NULL,
                    PRIMARY KEY (job_id, seq)
                );

                CREATE TABLE job_log_chunks (
                    job_id uuid NOT NULL REFERENCES jobs (job_id),
                    attempt int NOT NULL,
                    byte_offset bigint NOT NULL,
                    data bytea NOT NULL,
                    PRIMARY KEY (job_id, attempt, byte_offset)
                );

                CREATE TABLE objects (
                    object_id uuid NOT NULL,
                    object_version int NOT NULL,
                    object_type text NOT NULL,
                    attributes jsonb NOT NULL,
                    storage_path text,
                    job_id uuid REFERENCES jobs (job_id),
                    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                    PRIMARY KEY (object_id, object_version)
                );

                CREATE TABLE outbox (
                    id bigserial PRIMARY KEY,
                    routing_key text NOT NULL,
                    message_type text NOT NULL,
                    message_id uuid NOT NULL,
                    body bytea NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT clock_timestamp()
                );
                """),
        PostgresMigration(
            version: 2, name: "versioned objects and tags, attribute search index, job filters, groups and re-runs",
            sql: """
                ALTER TABLE objects ADD COLUMN definition jsonb, ADD COLUMN superseded_at timestamptz;
                UPDATE objects SET definition = CASE object_type
                    WHEN 'MODEL' THEN jsonb_build_object('objectType', 'MODEL', 'model', jsonb_strip_nulls(jsonb_build_object(
                        'language', attributes->>'language', 'repository', attributes->>'repository',
                        'version', attributes->>'version', 'entryPoint', attributes->>'entryPoint',
                        'path', attributes->>'path', 'commit', attributes->>'commit')))
                    ELSE jsonb_build_object('objectType', object_type, lower(object_type), '{}'::jsonb) END;
                ALTER TABLE objects ALTER COLUMN definition SET NOT NULL;

                CREATE TABLE object_tags (
                    tag_key bigserial PRIMARY KEY,
                    object_id uuid NOT NULL,
                    object_version int NOT NULL,
                    tag_version int NOT NULL,
                    object_type text NOT NULL,
                    attributes jsonb NOT NULL,
                    created_at timestamptz NOT NULL,
                    superseded_at timestamptz,
                    -- the period in which this tag is the latest tag of the latest object version
                    search_from timestamptz NOT NULL,
                    search_to timestamptz,
                    UNIQUE (object_id, object_version, tag_version),
                    FOREIGN KEY (object_id, object_version) REFERENCES objects (object_id, object_version)
                );
                CREATE INDEX object_tags_current ON object_tags (object_type, tag_key) WHERE search_to IS NULL;
                CREATE INDEX object_tags_current_all ON object_tags (tag_key) WHERE search_to IS NULL;
                CREATE INDEX object_tags_period ON object_tags (search_from, search_to);

                CREATE TABLE tag_attrs (
                    tag_key bigint NOT NULL REFERENCES object_tags (tag_key),
                    attr_name text NOT NULL,
                    v_text text,
                    v_num numeric,
                    v_bool boolean,
                    v_time timestamptz
                );
                CREATE INDEX tag_attrs_key ON tag_attrs (tag_key, attr_name);
                CREATE INDEX tag_attrs_text ON tag_attrs (attr_name, v_text, tag_key) WHERE v_text IS NOT NULL;
                CREATE INDEX tag_attrs_num ON tag_attrs (attr_name, v_num, tag_key) WHERE v_num IS NOT NULL;
                CREATE INDEX tag_attrs_time ON tag_attrs (attr_name, v_time, tag_key) WHERE v_time IS NOT NULL;
                CREATE INDEX tag_attrs_bool ON tag_attrs (attr_name, v_bool, tag_key) WHERE v_bool IS NOT NULL;

                -- Existing objects: their plain JSON attributes become typed tag version 1.
                INSERT INTO object_tags (object_id, object_version, tag_version, object_type, attributes, created_at,
                                         search_from, search_to)
                SELECT o.object_id, o.object_version, 1, o.object_type,
                       COALESCE((SELECT jsonb_object_agg(key, jsonb_build_object(
                           'type', CASE jsonb_typeof(value)
                               WHEN 'boolean' THEN 'BOOLEAN'
                               WHEN 'number' THEN CASE WHEN value::text ~ '^-?[0-9]+$' AND abs(value::text::numeric) < 9e15
                                                  THEN 'INTEGER' ELSE 'FLOAT' END
                               ELSE 'STRING' END,
                           'value', CASE WHEN jsonb_typeof(value) IN ('boolean', 'number', 'string') THEN value
                                         ELSE to_jsonb(value::text) END))
                           FROM jsonb_each(o.attributes) WHERE jsonb_typeof(value) <> 'null'), '{}'::jsonb),
                       o.created_at, o.created_at,
                       CASE WHEN o.object_version < (SELECT max(object_version) FROM objects x WHERE x.object_id = o.object_id)
                            THEN o.created_at END
                FROM objects o;
                INSERT INTO tag_attrs (tag_key, attr_name, v_text, v_num, v_bool)
                SELECT t.tag_key, e.key,
                       CASE WHEN e.value->>'type' = 'STRING' THEN e.value->>'value' END,
                       CASE WHEN e.value->>'type' IN ('INTEGER', 'FLOAT') THEN (e.value->>'value')::numeric END,
                       CASE WHEN e.value->>'type' = 'BOOLEAN' THEN (e.value->>'value')::boolean END
                FROM object_tags t, jsonb_each(t.attributes) e;
                ALTER TABLE objects DROP COLUMN attributes;

                ALTER TABLE jobs ADD COLUMN labels jsonb NOT NULL DEFAULT '{}'::jsonb,
                                 ADD COLUMN rerun_of uuid REFERENCES jobs (job_id),
                                 ADD COLUMN parent_job_id uuid REFERENCES jobs (job_id),
                                 ADD COLUMN group_position int;
                UPDATE jobs SET labels = COALESCE(definition->'labels', '{}'::jsonb);
                CREATE INDEX jobs_labels ON jobs USING gin (labels jsonb_path_ops);
                CREATE INDEX jobs_status ON jobs (status, submitted_at DESC, job_id DESC);
                CREATE INDEX jobs_type ON jobs (job_type, submitted_at DESC, job_id DESC);
                CREATE INDEX jobs_owner ON jobs (owner, submitted_at DESC, job_id DESC);
                CREATE INDEX jobs_started ON jobs (started_at, job_id);
                CREATE INDEX jobs_finished ON jobs (finished_at, job_id);
                CREATE INDEX jobs_priority ON jobs (priority, submitted_at, job_id);
                CREATE INDEX jobs_children ON jobs (parent_job_id, group_position) WHERE parent_job_id IS NOT NULL;
                """),
        PostgresMigration(
            version: 3, name: "job definitions of the first release in the current shape",
            sql: """
                -- EXPORT_DATA {data, storage, path} became {inputs: {data}, exports: {data: {storage, path}}}.
                UPDATE jobs SET definition = jsonb_set(definition, '{exportData}', jsonb_build_object(
                        'inputs', jsonb_build_object('data', definition->'exportData'->'data'),
                        'exports', jsonb_build_object('data', jsonb_strip_nulls(jsonb_build_object(
                            'storage', definition->'exportData'->'storage', 'path', definition->'exportData'->'path')))))
                WHERE definition->'exportData' ? 'data';
                -- IMPORT_MODEL modelAttrs {name: value} became a list of tag updates.
                UPDATE jobs SET definition = jsonb_set(definition, '{importModel,modelAttrs}', (
                        SELECT COALESCE(jsonb_agg(jsonb_build_object('attrName', key, 'value', value)), '[]'::jsonb)
                        FROM jsonb_each(definition->'importModel'->'modelAttrs') WHERE value <> 'null'::jsonb))
                WHERE jsonb_typeof(definition->'importModel'->'modelAttrs') = 'object';
                -- RUN_MODEL outputAttrs {name: value} became a list of tag updates too.
                UPDATE jobs SET definition = jsonb_set(definition, '{runModel,outputAttrs}', (
                        SELECT COALESCE(jsonb_agg(jsonb_build_object('attrName', key, 'value', value)), '[]'::jsonb)
                        FROM jsonb_each(definition->'runModel'->'outputAttrs') WHERE value <> 'null'::jsonb))
                WHERE jsonb_typeof(definition->'runModel'->'outputAttrs') = 'object';
                -- Parameters are typed values now; a null parameter meant "not given".
                UPDATE jobs SET definition = jsonb_set(definition, '{runModel,parameters}', (
                        SELECT COALESCE(jsonb_object_agg(key, value), '{}'::jsonb)
                        FROM jsonb_each(definition->'runModel'->'parameters') WHERE value <> 'null'::jsonb))
                WHERE jsonb_typeof(definition->'runModel'->'parameters') = 'object';
                -- Their JOB objects carry the same definitions.
                UPDATE objects o SET definition = jsonb_build_object('objectType', 'JOB', 'job', j.definition)
                FROM jobs j WHERE o.object_id = j.job_id AND o.object_type = 'JOB';
                """),
        PostgresMigration(
            version: 4, name: "fewer job indexes: every status change rewrites each of them",
            sql: """
                -- Sorting by start, finish or priority and filtering by type sort in memory instead:
                -- cheap for a page, while each index costs every one of a job's several updates.
                DROP INDEX jobs_started;
                DROP INDEX jobs_finished;
                DROP INDEX jobs_priority;
                DROP INDEX jobs_type;
                """),
        PostgresMigration(
            version: 5, name: "a statement can check how many rows it changed",
            sql: """
                -- Batched status changes are compare-and-set: one statement changes many jobs, each only
                -- if it still has the status it was locked with, and fails as a whole when one did not
                -- (SQLSTATE 40001, so the transaction is decided again).
                CREATE FUNCTION conveyor_expect_rows(changed bigint, expected bigint, what text) RETURNS void
                LANGUAGE plpgsql AS $$
                BEGIN
                    IF changed <> expected THEN
                        RAISE EXCEPTION '% (% of % rows changed)', what, changed, expected USING ERRCODE = 'serialization_failure';
                    END IF;
                END $$;
                """),
        PostgresMigration(
            version: 6, name: "cheaper rows per job: no foreign keys on the rows written with a job, fewer index entries",
            sql: """
                -- Every job writes rows that point at it (its history, its log, its JOB and log FILE
                -- objects with their tags and index entries) in the transaction that writes the job or
                -- its change, and metadata is their only writer. Checking each against its parent, and
                -- locking the parent's row to do so, cost more than writing them.
                ALTER TABLE job_updates DROP CONSTRAINT IF EXISTS job_updates_job_id_fkey;
                ALTER TABLE job_log_chunks DROP CONSTRAINT IF EXISTS job_log_chunks_job_id_fkey;
                ALTER TABLE objects DROP CONSTRAINT IF EXISTS objects_job_id_fkey;
                ALTER TABLE object_tags DROP CONSTRAINT IF EXISTS object_tags_object_id_object_version_fkey;
                ALTER TABLE tag_attrs DROP CONSTRAINT IF EXISTS tag_attrs_tag_key_fkey;
                -- Most jobs have neither an idempotency key nor labels: their rows (and every version a
                -- status change writes of them) need no entry in those indexes.
                ALTER TABLE jobs DROP CONSTRAINT IF EXISTS jobs_idempotency_key_key;
                CREATE UNIQUE INDEX jobs_idempotency_key ON jobs (idempotency_key) WHERE idempotency_key IS NOT NULL;
                DROP INDEX jobs_labels;
                CREATE INDEX jobs_labels ON jobs USING gin (labels jsonb_path_ops) WHERE labels <> '{}'::jsonb;
                -- jobs_status (status, submitted_at, job_id) serves the active jobs too.
                DROP INDEX jobs_active;
                """),
        PostgresMigration(
            version: 7, name: "scheduling: waiting jobs per owner (queue quotas), active jobs in id order (paged rebuild)",
            sql: """
                -- An owner's waiting jobs are counted at each submission when a queue quota is set.
                CREATE INDEX jobs_waiting_owner ON jobs (owner) WHERE status IN ('PENDING', 'QUEUED');
                -- The scheduler rebuilds its state page by page, in id order, from the active jobs only.
                CREATE INDEX jobs_active_id ON jobs (job_id) WHERE status IN ('PENDING', 'QUEUED', 'SUBMITTED', 'RUNNING');
                """),
        PostgresMigration(
            version: 8, name: "retries, lost workers, dependencies",
            sql: """
                -- Earlier attempts that failed or lost their worker, the next attempt's resources and
                -- when it may start (NULL: none of it yet).
                ALTER TABLE jobs ADD COLUMN attempt_history jsonb;
                -- A job waiting in PENDING for others to end: one row per job it waits for, found by
                -- the job that ends.
                -- Running attempts by when their lease ends, for the sweep that re-queues expired ones.
                CREATE INDEX jobs_lease ON jobs (lease_until) WHERE status IN ('SUBMITTED', 'RUNNING');
                CREATE TABLE job_dependencies (
                    job_id uuid NOT NULL,
                    depends_on uuid NOT NULL,
                    PRIMARY KEY (depends_on, job_id)
                );
                """),
        PostgresMigration(
            version: 9, name: "the re-runs of a job",
            sql: """
                -- Deleting a job checks that no re-run refers to it (jobs_rerun_of_fkey): without an
                -- index each such check read the whole table.
                CREATE INDEX jobs_rerun_of ON jobs (rerun_of) WHERE rerun_of IS NOT NULL;
                """),
        PostgresMigration(
            version: 10, name: "the jobs that depend on a job, whatever their state",
            sql: """
                -- A chain re-run follows dependsOn from a job to the jobs that named it, also after
                -- their job_dependencies rows were deleted (they are, once a dependency is settled).
                CREATE INDEX jobs_depends_on ON jobs USING gin ((definition -> 'dependsOn' -> 'jobIds')) WHERE definition ? 'dependsOn';
                """),
        PostgresMigration(
            version: 11, name: "the jobs that read an object",
            sql: """
                -- A re-run downstream of a newer version finds the jobs whose inputs (of any section)
                -- name an object (JobStore.inputsExpression must read exactly the same).
                CREATE INDEX jobs_inputs ON jobs USING gin ((jsonb_path_query_array(definition, '$.*.inputs.*.objectId')));
                """),
        PostgresMigration(
            version: 12, name: "what a running model says of itself",
            sql: """
                -- The latest progress report of the running attempt (its result keeps the last one).
                ALTER TABLE jobs ADD COLUMN progress jsonb;
                """),
        PostgresMigration(
            version: 13, name: "what became of a job's e-mail",
            sql: """
                -- The notifier's latest report of the job's completion e-mail (PENDING, SENT, FAILED).
                ALTER TABLE jobs ADD COLUMN notification_delivery jsonb;
                """),
        PostgresMigration(
            version: 14, name: "API tokens",
            sql: """
                -- A token's secret is kept only as its SHA-256 (hex); verification looks it up.
                CREATE TABLE api_tokens (
                    token_id uuid PRIMARY KEY,
                    secret_hash text NOT NULL UNIQUE,
                    principal text NOT NULL,
                    role text NOT NULL CHECK (role IN ('user', 'operator', 'admin')),
                    teams jsonb NOT NULL DEFAULT '[]',
                    label text NOT NULL,
                    created_by text NOT NULL,
                    created_at timestamptz NOT NULL,
                    expires_at timestamptz NOT NULL,
                    revoked_at timestamptz,
                    requests_per_second int
                );
                CREATE INDEX api_tokens_principal ON api_tokens (principal);
                """),
        PostgresMigration(
            version: 15, name: "status changes by time, for the event stream",
            sql: """
                -- History rows are written in time order, so a BRIN index finds a time's rows for
                -- next to nothing at each write (a B-tree would add an entry to every status change).
                CREATE INDEX job_updates_at ON job_updates USING brin (at);
                """),
        PostgresMigration(
            version: 16, name: "default e-mail settings per principal",
            sql: """
                CREATE TABLE notification_defaults (
                    principal text PRIMARY KEY,
                    settings jsonb NOT NULL,
                    updated_at timestamptz NOT NULL
                );
                """),
        PostgresMigration(
            version: 17, name: "the audit trail",
            sql: """
                -- What the gateway recorded of every change made through the API; read newest first,
                -- by principal, action or target.
                CREATE TABLE audit_log (
                    id bigserial PRIMARY KEY,
                    at timestamptz NOT NULL,
                    principal text NOT NULL,
                    role text NOT NULL,
                    action text NOT NULL,
                    method text NOT NULL,
                    path text NOT NULL,
                    target text,
                    status int NOT NULL,
                    remote_address text,
                    request_id text NOT NULL
                );
                CREATE INDEX audit_log_principal ON audit_log (principal, id);
                CREATE INDEX audit_log_target ON audit_log (target, id) WHERE target IS NOT NULL;
                """),
        PostgresMigration(
            version: 18, name: "object owners and sharing",
            sql: """
                -- Every version of an object carries its owner and the teams it is shared with (a JSON
                -- array of names, '*' for every user; NULL when not shared), so a read or a search
                -- checks access on the row it reads anyway. NULL owner: an object from before owners,
                -- readable by everyone.
                ALTER TABLE objects ADD COLUMN owner text, ADD COLUMN shared_with jsonb;
                -- What jobs wrote belongs to the jobs' owners; a later version keeps the first's owner.
                UPDATE objects o SET owner = j.owner FROM jobs j WHERE o.job_id = j.job_id;
                UPDATE objects o SET owner = first.owner
                FROM objects first
                WHERE first.object_id = o.object_id AND first.object_version = 1 AND o.object_version > 1
                  AND o.owner IS DISTINCT FROM first.owner;
                """),
    ]
}
