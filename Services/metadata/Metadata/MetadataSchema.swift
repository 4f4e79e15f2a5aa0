import PostgresClient

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
                """)
    ]
}
