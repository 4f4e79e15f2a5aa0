// Generated from docs/openapi.yaml by `make openapi` (deploy/local/gen-openapi.sh). Do not edit.

/// The OpenAPI document the gateway serves.
enum OpenAPIDocument {
    static let yaml = #"""
openapi: 3.1.0
info:
  title: Conveyor API
  version: "1.0.0"
  description: |
    The public HTTP API of Conveyor's api-gateway (`Services/api-gateway`). The gateway is stateless:
    it checks each request and forwards it to the metadata service over AMQP RPC
    (queue `metadata.rpc`). The source of truth is the code: `APIGateway/JobRoutes.swift`,
    `ObjectRoutes.swift`, `LogStream.swift`, `Problem.swift` and the models in
    `Shared/ConveyorModels`.

    ## Conventions

    - **JSON** bodies are UTF-8. Responses write keys in sorted order.
    - **UUIDs** are strings and are accepted in any case. JSON response bodies currently carry them
      in upper case (Foundation's default encoding of `UUID`), while `Location` headers and
      problem messages use lower case; compare them case-insensitively.
    - **Timestamps** are ISO 8601 strings. Responses always write UTC with exactly six fractional
      digits (microseconds), e.g. `2026-11-21T12:00:00.123456Z`, so a time read from the API can be
      passed back (for example as `asOf`) without losing precision. Requests must give an offset
      (`Z` or `+01:00`) and may give any number of fractional digits (microseconds are kept). In a
      query string, write `+` as `%2B` (or use `Z`).
    - **Optional fields** with no value are left out of responses; they are never `null`. In
      requests, `null` for an optional field means the same as leaving it out (but a `Value` is never
      `null`).
    - **Unknown fields** in a request body are rejected (422, naming each one).
    - **What the store cannot keep** is refused where requests are decoded, never later at the
      database: a NUL character (U+0000) in any string or key of a body (422 naming the field) or in
      any query parameter (400 naming the parameter); a body nested deeper than 64 levels (400);
      a date-time outside years 0001-9999 in UTC (422); an INTEGER beyond ±9×10^15 (422; send a
      larger whole number as `{"type": "DECIMAL", "value": "..."}` to keep it exactly).
    - **Errors**: every 4xx/5xx answer is an RFC 9457 problem (`application/problem+json`, schema
      `Problem`). `errors` lists every problem found, each with a JSON path (`field`) such as
      `runModel.model.objectId`, `notification.email[0]` or `attrs[2].attrName`; `$` is the whole body.
      How failures map to status codes:
      - 400: the body is not valid UTF-8 or not valid JSON, or its top level has the wrong type
        (field `$`); a path parameter is malformed (field `id` / `version`); a query parameter or a
        header is malformed (field = the parameter's name).
      - 401: no identity, or one that is unknown, revoked, expired or not trusted.
      - 403: the caller's role or ownership does not allow it (another owner's job, tokens without
        the admin role, naming another owner).
      - 404: no such job or object (or version).
      - 409: a state conflict: the job already ended (cancel), has not ended (result, rerun), or a
        compare-and-set failed (`priorVersion`, `tagVersion`).
      - 413: the body is larger than the route allows.
      - 422: the body is well-formed JSON but invalid: wrong field types, missing or unknown fields,
        values out of range, references to objects that cannot be used. All problems are listed.
      - 429: the caller is over their request rate (with `Retry-After`), or the owner has as many jobs waiting (PENDING or QUEUED) as the deployment allows
        (`quotas.maxQueuedPerOwner`); submissions and re-runs only.
      - 500: internal error in metadata (details only in its log).
      - 503: the message broker or the database is unavailable; retry.
      - 504: metadata did not answer within `amqp.rpcTimeoutSeconds`; retry (with the same
        `Idempotency-Key` for submissions).
    - **Limits** (settings): request bodies at most `gateway.maxBodyBytes` (default 1048576 bytes);
      uploads at most `gateway.maxUploadBytes` (default and maximum 33554432 bytes); a cancel body at
      most 16384 bytes.
    - **Identity**: every operation but `getOpenAPI` and `health` needs `Authorization: Bearer
      <token>`, an API token (`cvy_...`, issued by an admin: `POST /api/v1/tokens` or
      `conveyor-admin tokens issue`) or, where the deployment trusts an identity provider
      (`auth.jwt.*`), a JWT. Without a valid one: 401. Roles: `user` (their own jobs), `operator`
      (sees and cancels every job), `admin` (also tokens). A job's owner is the caller; only an admin
      may name another `owner`. Another owner's job: 403. Over the caller's rate
      (`requestsPerSecond` of the token, else `gateway.rateLimit.requestsPerSecond`): 429 with
      `Retry-After`. See `docs/security.md`.
    - **Request ids**: every answer carries `X-Request-Id`: the client's (1-100 letters, digits,
      `.`, `_`, `-`) or one the gateway made; the audit trail records it.
    - **CORS**: browser origins listed in `gateway.cors.origins` may call the API with credentials
      and read `Location`, `Retry-After` and the log headers.
servers:
  - url: http://127.0.0.1:8080
    description: local stack (gateway.host / gateway.port)
security:
  - bearerAuth: []
tags:
  - name: jobs
    description: Submit, validate, list, follow, cancel and re-run jobs.
  - name: objects
    description: Versioned metadata objects (MODEL, DATA, FILE, FLOW, SCHEMA, JOB) and their tags.
  - name: identity
    description: Who the caller is; API tokens (admins).
  - name: meta
    description: The API's own description.
  - name: health
    description: Readiness of the gateway.
paths:
  /api/v1/jobs:
    post:
      tags: [jobs]
      operationId: submitJob
      summary: Submit a job
      description: |
        Checks the definition (shape, then every rule: enabled job type, exactly the section that
        matches `jobType`, ranges, names, paths, e-mail addresses), then has metadata resolve every
        object the job refers to and pin it to the exact object and tag version current now. The
        answer (201) comes only after metadata committed the job, its status history (VALIDATED,
        QUEUED), its JOB object and its queued event in one transaction. A JOB_GROUP starts RUNNING at
        once (VALIDATED, QUEUED, SUBMITTED, RUNNING) and submits its child jobs.

        A repeated `idempotencyKey` (or `Idempotency-Key` header, used when the body has none) answers
        201 with the job first submitted with that key, whatever the new body says; a key another
        owner's job has answers 409 (keys are per owner).

        When the deployment sets `quotas.maxQueuedPerOwner`, a submission whose owner already has that
        many jobs waiting (PENDING or QUEUED) is refused with 429 and nothing is written; a known
        idempotency key is still answered with its job.
      parameters:
        - $ref: "#/components/parameters/IdempotencyKeyForSubmit"
      requestBody:
        required: true
        description: A job definition, at most `gateway.maxBodyBytes` (default 1048576) bytes.
        content:
          application/json:
            schema:
              $ref: "#/components/schemas/JobDefinition"
            examples:
              importModel:
                value:
                  jobType: IMPORT_MODEL
                  importModel:
                    repository: /path/to/model-repo
                    path: sample-model
                    entryPoint: model.py
                    language: python
                    version: v1.0
                    modelAttrs:
                      - attrName: team
                        value: analytics
                  owner: demo
              runModel:
                value:
                  jobType: RUN_MODEL
                  runModel:
                    model:
                      objectId: 2f0e6a7c-1b2d-4e3f-8a9b-0c1d2e3f4a5b
                    parameters:
                      text: the quick brown fox jumps over the lazy dog
                      top: 3
                      rate:
                        type: DECIMAL
                        value: "0.25"
                    inputs:
                      customers:
                        objectId: 7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
                        objectVersion: 2
                  owner: demo
                  priority: 60
                  labels:
                    project: demo
                  notification:
                    email: [demo@example.com]
                    "on": [FAILED]
              exportData:
                value:
                  jobType: EXPORT_DATA
                  exportData:
                    inputs:
                      summary:
                        objectId: 7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
                    exports:
                      summary:
                        storage: local
                        path: demo/summary.json
                  owner: demo
              jobGroup:
                value:
                  jobType: JOB_GROUP
                  jobGroup:
                    groupType: SEQUENTIAL
                    jobs:
                      - jobType: RUN_MODEL
                        runModel:
                          model:
                            objectId: 2f0e6a7c-1b2d-4e3f-8a9b-0c1d2e3f4a5b
                      - jobType: EXPORT_DATA
                        exportData:
                          inputs:
                            result:
                              objectId: 7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
                          exports:
                            result:
                              path: demo/result.csv
                  idempotencyKey: nightly-2026-11-21
      responses:
        "201":
          description: The job was recorded (or the job of the same idempotency key is returned).
          headers:
            Location:
              $ref: "#/components/headers/JobLocation"
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/JobRecord"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "403":
          $ref: "#/components/responses/Forbidden"
        "409":
          description: Another owner's job already has this idempotency key; nothing written.
          content:
            application/problem+json:
              schema:
                $ref: "#/components/schemas/Problem"
        "413":
          $ref: "#/components/responses/ContentTooLarge"
        "422":
          $ref: "#/components/responses/Unprocessable"
        "429":
          $ref: "#/components/responses/QueueQuota"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
    get:
      tags: [jobs]
      operationId: listJobs
      summary: List and filter jobs
      description: |
        One page of jobs matching every filter given, sorted by `sort` (default `submittedAt`) in
        `order` (default `desc`, newest first), ties broken by job id. Paging is by keyset: the cursor
        holds the last sort key and job id of the page, so jobs that arrive meanwhile never shift a
        page. Jobs that have not started (or finished) sort as the earliest time for `startedAt`
        (`finishedAt`). Listed jobs carry their full status history but not `childJobIds`.

        Every problem with the query parameters is reported at once (400, one entry per parameter).
      parameters:
        - name: limit
          in: query
          required: false
          description: Jobs per page.
          schema:
            type: integer
            minimum: 1
            maximum: 500
            default: 50
        - name: cursor
          in: query
          required: false
          description: |
            The `nextCursor` of the previous page (opaque). It is only valid with the same `sort` and
            `order` (422, field `cursor`, otherwise); pass the same filters too.
          schema:
            type: string
        - name: status
          in: query
          required: false
          description: |
            Only jobs in one of these statuses. Comma-separated (`status=QUEUED,RUNNING`) or repeated;
            case-insensitive.
          style: form
          explode: true
          schema:
            type: array
            items:
              $ref: "#/components/schemas/JobStatus"
        - name: jobType
          in: query
          required: false
          description: Only jobs of one of these types. Comma-separated or repeated; case-insensitive.
          style: form
          explode: true
          schema:
            type: array
            items:
              $ref: "#/components/schemas/JobType"
        - name: owner
          in: query
          required: false
          description: Only jobs of this owner (exact match, 1-200 characters).
          schema:
            type: string
            minLength: 1
            maxLength: 200
        - name: label
          in: query
          required: false
          description: |
            `name:value` (split at the first `:`; both parts non-empty). Repeat for several labels;
            a job matches when it has all of them.
          style: form
          explode: true
          schema:
            type: array
            items:
              type: string
              pattern: "^[^:]+:.+$"
          example: ["project:demo"]
        - name: submittedFrom
          in: query
          required: false
          description: Submitted at or after this time.
          schema:
            $ref: "#/components/schemas/DateTime"
        - name: submittedTo
          in: query
          required: false
          description: Submitted before this time (exclusive).
          schema:
            $ref: "#/components/schemas/DateTime"
        - name: startedFrom
          in: query
          required: false
          description: Started at or after this time (jobs not started yet never match).
          schema:
            $ref: "#/components/schemas/DateTime"
        - name: startedTo
          in: query
          required: false
          description: Started before this time (exclusive).
          schema:
            $ref: "#/components/schemas/DateTime"
        - name: finishedFrom
          in: query
          required: false
          description: Finished at or after this time (jobs not finished yet never match).
          schema:
            $ref: "#/components/schemas/DateTime"
        - name: finishedTo
          in: query
          required: false
          description: Finished before this time (exclusive).
          schema:
            $ref: "#/components/schemas/DateTime"
        - name: sort
          in: query
          required: false
          description: The sort key (case-sensitive).
          schema:
            $ref: "#/components/schemas/JobSort"
        - name: order
          in: query
          required: false
          description: Sort direction (case-sensitive).
          schema:
            type: string
            enum: [desc, asc]
            default: desc
        - name: counts
          in: query
          required: false
          description: |
            `true` (or `1`) to also count every job matching the filters by status (`counts` in the
            answer). `false`/`0` or absent: no counts. Case-insensitive.
          schema:
            type: string
            enum: ["true", "false", "1", "0"]
      responses:
        "200":
          description: One page of jobs.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/JobPage"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "403":
          $ref: "#/components/responses/Forbidden"
        "422":
          description: The cursor is not one this API returned for this sort order (field `cursor`).
          content:
            application/problem+json:
              schema:
                $ref: "#/components/schemas/Problem"
        "429":
          $ref: "#/components/responses/RateLimited"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
  /api/v1/jobs/validate:
    post:
      tags: [jobs]
      operationId: validateJob
      summary: Validate a job without submitting it (dry run)
      description: |
        Runs every check of a submission, including resolving the objects the job refers to, and
        writes nothing. Answers 200 with `status` VALIDATED and the definition as it would be recorded
        (every object reference pinned to an exact object and tag version, parameter values converted
        to the types the model declares and defaults filled in), or 422 listing every problem. The
        `Idempotency-Key` header is accepted (and checked) as for a submission.
      parameters:
        - $ref: "#/components/parameters/IdempotencyKeyForSubmit"
      requestBody:
        required: true
        description: A job definition, at most `gateway.maxBodyBytes` bytes.
        content:
          application/json:
            schema:
              $ref: "#/components/schemas/JobDefinition"
      responses:
        "200":
          description: The definition would be accepted.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/JobValidation"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "403":
          $ref: "#/components/responses/Forbidden"
        "413":
          $ref: "#/components/responses/ContentTooLarge"
        "422":
          $ref: "#/components/responses/Unprocessable"
        "429":
          $ref: "#/components/responses/RateLimited"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
  /api/v1/queue:
    get:
      tags: [jobs]
      operationId: getQueue
      summary: Queued and running jobs per job type and owner, and the workers' capacity
      description: From the active scheduler (503 while none answers within 2 s).
      responses:
        "200":
          description: The summary.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/QueueSummary"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "429":
          $ref: "#/components/responses/RateLimited"
        "503":
          $ref: "#/components/responses/Unavailable"
  /api/v1/jobs/{id}:
    get:
      tags: [jobs]
      operationId: getJob
      summary: A job with its full status history
      description: |
        The job record: its (pinned) definition, current status, the append-only status history,
        its result once it ended and, for a JOB_GROUP, the ids of its child jobs in order. A QUEUED
        job's record also says where it stands in the queue (`queue`: position, the jobs ahead, the
        estimated start, why it waits), when the scheduler answers within a second.
      parameters:
        - $ref: "#/components/parameters/JobId"
      responses:
        "200":
          description: The job.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/JobRecord"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "403":
          $ref: "#/components/responses/Forbidden"
        "404":
          $ref: "#/components/responses/NotFound"
        "429":
          $ref: "#/components/responses/RateLimited"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
  /api/v1/jobs/{id}/status:
    get:
      tags: [jobs]
      operationId: getJobStatus
      summary: The job's status now, or as of a time
      description: |
        The last entry of the status history, or with `asOf` the last entry at or before that time
        (404 when the job was submitted after `asOf`).
      parameters:
        - $ref: "#/components/parameters/JobId"
        - name: asOf
          in: query
          required: false
          description: A moment in the past; default now.
          schema:
            $ref: "#/components/schemas/DateTime"
      responses:
        "200":
          description: The status, its message and when it was entered.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/JobStatusUpdate"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "403":
          $ref: "#/components/responses/Forbidden"
        "404":
          description: No such job, or it was submitted after `asOf`.
          content:
            application/problem+json:
              schema:
                $ref: "#/components/schemas/Problem"
        "429":
          $ref: "#/components/responses/RateLimited"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
  /api/v1/jobs/{id}/usage:
    get:
      tags: [jobs]
      operationId: getJobUsage
      summary: What a job asked for and what its last attempt used
      description: |
        The job's requested resources and its last attempt's usage, measured by the runner from the
        attempt's control group: peak memory and CPU time of all its processes, the memory limit, the
        most disk its work folder took and the quota, and the samples taken every few seconds while
        it ran (see docs/containment.md). `usage` is absent until an attempt has ended.
      parameters:
        - $ref: "#/components/parameters/JobId"
      responses:
        "200":
          description: The usage.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/JobUsage"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "403":
          $ref: "#/components/responses/Forbidden"
        "404":
          $ref: "#/components/responses/NotFound"
        "429":
          $ref: "#/components/responses/RateLimited"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
  /api/v1/jobs/{id}/result:
    get:
      tags: [jobs]
      operationId: getJobResult
      summary: The result record of a finished job
      description: |
        The result of a job in a terminal status (SUCCEEDED, FAILED, CANCELLED): its outcome, exit
        code, the objects it registered, its outputs by name, the FILE holding its complete log and
        the resources it used. 409 while the job has not ended.
      parameters:
        - $ref: "#/components/parameters/JobId"
      responses:
        "200":
          description: The result.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/JobResult"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "403":
          $ref: "#/components/responses/Forbidden"
        "404":
          $ref: "#/components/responses/NotFound"
        "409":
          description: The job has not ended yet (or has no result recorded); nothing to return.
          content:
            application/problem+json:
              schema:
                $ref: "#/components/schemas/Problem"
        "429":
          $ref: "#/components/responses/RateLimited"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
  /api/v1/jobs/{id}/log:
    get:
      tags: [jobs]
      operationId: getJobLog
      summary: A byte range of the job's log
      description: |
        The bytes the job's current attempt has logged so far (stdout and stderr merged, plus the
        worker's own lines), from byte `offset`, at most `limit` bytes. The answer stops at the first
        gap (a chunk that has not arrived yet) and may end inside a UTF-8 character when `limit` cuts
        it. Poll with `offset` = the previous `Conveyor-Log-Next-Offset` until `Conveyor-Log-Complete`
        is `true`, or follow `/log/stream` instead. An offset past the end answers an empty body.
      parameters:
        - $ref: "#/components/parameters/JobId"
        - name: offset
          in: query
          required: false
          description: The first byte to return.
          schema:
            type: integer
            minimum: 0
            default: 0
        - name: limit
          in: query
          required: false
          description: At most this many bytes (no limit by default).
          schema:
            type: integer
            minimum: 1
      responses:
        "200":
          description: The log bytes.
          headers:
            Conveyor-Log-Offset:
              description: The offset of the first byte returned (the `offset` asked for).
              schema:
                type: integer
            Conveyor-Log-Next-Offset:
              description: The offset to ask for next (offset + bytes returned).
              schema:
                type: integer
            Conveyor-Log-Complete:
              description: "`true` when the job is terminal (no more log will arrive), else `false`."
              schema:
                type: string
                enum: ["true", "false"]
            Conveyor-Log-Attempt:
              description: The attempt whose log this is (a re-queued or retried job's new attempt starts a new log).
              schema:
                type: integer
          content:
            text/plain; charset=utf-8:
              schema:
                type: string
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "403":
          $ref: "#/components/responses/Forbidden"
        "404":
          $ref: "#/components/responses/NotFound"
        "429":
          $ref: "#/components/responses/RateLimited"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
  /api/v1/jobs/{id}/log/stream:
    get:
      tags: [jobs]
      operationId: followJobLog
      summary: Follow the job's log as server-sent events
      description: |
        Streams the log as server-sent events (`text/event-stream`, with `Cache-Control: no-cache`
        and `X-Accel-Buffering: no`). The job is looked up first, so an unknown job answers 404
        before the stream starts; after that, failures only end the stream.

        Events:
        - `log`: whole lines of the log, one `data:` line per log line (carriage returns removed).
          Its `id` is `<attempt>:<offset>`: the attempt and the byte offset just after those lines
          in that attempt's log. A single line longer than 64 KiB is
          sent in pieces cut at a UTF-8 character boundary; once the job is terminal, a last
          unterminated line is sent as it is.
        - `attempt`: the job was re-queued or retried and a new attempt writes a new log; the stream goes on
          from the start of it. Its data is `{"attempt": n}`.
        - `end`: sent once the job is terminal and its log has been read to the end. Its `id` is the
          final `<attempt>:<offset>` and its data is the final status as a `JobStatusUpdate` JSON object
          (status, status message, finish time). The server then closes the stream.

        While nothing new arrives the server polls (100 ms growing to 1 s) and sends a `: keep-alive`
        comment every 15 seconds.

        To resume after a disconnect, reconnect with the header `Last-Event-ID` (which browsers'
        EventSource send automatically) or `offset` set to the last event's `id`; the stream continues
        exactly where it stopped. `Last-Event-ID` wins over `offset`.
      parameters:
        - $ref: "#/components/parameters/JobId"
        - name: offset
          in: query
          required: false
          description: The byte offset to start from.
          schema:
            type: integer
            minimum: 0
            default: 0
        - name: Last-Event-ID
          in: header
          required: false
          description: The `id` of the last event received (`attempt:offset`, or a plain byte offset); overrides `offset`.
          schema:
            type: string
            pattern: "^([0-9]+:)?[0-9]+$"
      responses:
        "200":
          description: The event stream.
          headers:
            Cache-Control:
              schema:
                type: string
                const: no-cache
            X-Accel-Buffering:
              description: Tells proxies such as nginx not to buffer the stream.
              schema:
                type: string
                const: "no"
          content:
            text/event-stream:
              schema:
                description: |
                  One server-sent event, as an event-stream parser reads it (`event`, `id`, `data` with
                  its lines joined by newlines; keep-alive comments are not events). The stream is
                  `log` events, an `attempt` event for each new attempt, and a last `end` event.
                oneOf:
                  - type: object
                    title: log
                    required: [event, id, data]
                    properties:
                      event:
                        const: log
                      id:
                        type: string
                        pattern: "^[0-9]+:[0-9]+$"
                        description: "`<attempt>:<offset>`: the byte offset just after these lines."
                      data:
                        type: string
                        description: Whole lines of the log (carriage returns removed).
                  - type: object
                    title: attempt
                    required: [event, data]
                    properties:
                      event:
                        const: attempt
                      id:
                        type: string
                        pattern: "^[0-9]+:[0-9]+$"
                      data:
                        type: string
                        contentMediaType: application/json
                        contentSchema:
                          type: object
                          required: [attempt]
                          properties:
                            attempt:
                              type: integer
                              minimum: 1
                  - type: object
                    title: end
                    required: [event, id, data]
                    properties:
                      event:
                        const: end
                      id:
                        type: string
                        pattern: "^[0-9]+:[0-9]+$"
                      data:
                        type: string
                        contentMediaType: application/json
                        contentSchema:
                          $ref: "#/components/schemas/JobStatusUpdate"
              example: |
                event: log
                id: 1:42
                data: loading model
                data: running with 3 parameters

                : keep-alive

                event: end
                id: 1:42
                data: {"at":"2026-11-21T12:00:03.000123Z","message":"finished","status":"SUCCEEDED"}

        "400":
          description: |
            The id is not a UUID (field `id`), `offset` is not a non-negative integer (field `offset`),
            or `Last-Event-ID` is not an id sent by the stream (field `Last-Event-ID`).
          content:
            application/problem+json:
              schema:
                $ref: "#/components/schemas/Problem"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "403":
          $ref: "#/components/responses/Forbidden"
        "404":
          $ref: "#/components/responses/NotFound"
        "429":
          $ref: "#/components/responses/RateLimited"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
  /api/v1/jobs/{id}/cancel:
    post:
      tags: [jobs]
      operationId: cancelJob
      summary: Cancel a job that has not ended
      description: |
        Ends the job as CANCELLED in one transaction: sets `finishedAt`, appends the CANCELLED update
        (status message `cancelled: <reason>`, or `cancelled on request` without a reason), records a
        result with status CANCELLED and publishes the cancelled event. Cancelling a JOB_GROUP first
        cancels its unfinished child jobs, also one the group started while the cancellation was
        under way; a child whose group has ended is never claimed (it is cancelled instead). A queued
        job never runs; a worker running the job is told to stop it (its whole process group is
        killed), and that attempt's log is then added to the result as `logFile`. 409 when the job
        already ended.
      parameters:
        - $ref: "#/components/parameters/JobId"
      requestBody:
        required: false
        description: Optional; an empty body cancels without a reason. At most 16384 bytes.
        content:
          application/json:
            schema:
              $ref: "#/components/schemas/CancelRequest"
            examples:
              withReason:
                value:
                  reason: not needed any more
      responses:
        "200":
          description: The job, now CANCELLED, with its status history.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/JobRecord"
        "400":
          description: |
            The id is not a UUID (field `id`), or the body is not valid JSON or not an object (field `$`).
          content:
            application/problem+json:
              schema:
                $ref: "#/components/schemas/Problem"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "403":
          $ref: "#/components/responses/Forbidden"
        "404":
          $ref: "#/components/responses/NotFound"
        "409":
          description: The job already ended (SUCCEEDED, FAILED or CANCELLED); nothing changed.
          content:
            application/problem+json:
              schema:
                $ref: "#/components/schemas/Problem"
        "413":
          $ref: "#/components/responses/ContentTooLarge"
        "422":
          description: |
            The body has an unknown field, `reason` is not a string, or `reason` is empty, longer than
            500 bytes or holds control characters (field `reason`).
          content:
            application/problem+json:
              schema:
                $ref: "#/components/schemas/Problem"
        "429":
          $ref: "#/components/responses/RateLimited"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
  /api/v1/jobs/{id}/rerun:
    post:
      tags: [jobs]
      operationId: rerunJob
      summary: Submit a finished job again
      description: |
        Submits a new job with the recorded definition of a finished job: the same pinned object and
        tag versions, with the outputs the platform filled in cleared. The new job's `rerunOf` names
        the original. 409 while the original has not ended, or when it is a child of a JOB_GROUP
        (re-run the group instead). With `Idempotency-Key`, a repeated call answers the job first
        submitted with that key (409 when another owner's job has it). The job's objects are
        checked again against the caller as at submit: 403 naming each one they may no longer
        read (or, for `priorOutputs`, change). No request body is read.
      parameters:
        - $ref: "#/components/parameters/JobId"
        - name: Idempotency-Key
          in: header
          required: false
          description: 1-200 characters; becomes the new job's `idempotencyKey`.
          schema:
            type: string
            minLength: 1
            maxLength: 200
      responses:
        "201":
          description: The new job.
          headers:
            Location:
              $ref: "#/components/headers/JobLocation"
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/JobRecord"
        "400":
          description: The id is not a UUID (field `id`) or `Idempotency-Key` is empty or too long (field `Idempotency-Key`).
          content:
            application/problem+json:
              schema:
                $ref: "#/components/schemas/Problem"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "403":
          $ref: "#/components/responses/Forbidden"
        "404":
          $ref: "#/components/responses/NotFound"
        "409":
          description: The job has not ended yet, or it is part of a JOB_GROUP.
          content:
            application/problem+json:
              schema:
                $ref: "#/components/schemas/Problem"
        "422":
          description: |
            The recorded definition no longer passes validation (for example its job type was
            disabled, or the Idempotency-Key holds control characters; field `idempotencyKey`).
          content:
            application/problem+json:
              schema:
                $ref: "#/components/schemas/Problem"
        "429":
          $ref: "#/components/responses/QueueQuota"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
  /api/v1/jobs/{id}/rerun-chain:
    post:
      tags: [jobs]
      operationId: rerunJobChain
      summary: Re-run a finished job and what it held up in its dependency chain
      description: |
        Re-runs only what is needed after a job of a dependency chain did not succeed: the job itself
        and, following `dependsOn` from it, every job that ended without succeeding (FAILED, or
        CANCELLED because what it waited for failed), each with its recorded (pinned) definition. A new
        job depends on the new jobs in place of the ones they re-run, and on the others as before; the
        jobs after it that SUCCEEDED are kept with their outputs (`reused`) and the chain is not followed
        past them; jobs that have not ended are left as they are (`active`). Within a job run again,
        a RUN_FLOW that failed part way keeps the nodes that finished (`keptNodes`) and a JOB_GROUP
        keeps its jobs that succeeded (`keptJobs`): only the failed stages run. Everything is submitted in
        one transaction. With `dryRun=true` nothing is written and the answer says what would run (the
        steps have no `jobId`, and their `dependsOn` names the jobs they re-run). No request body is read.
      parameters:
        - $ref: "#/components/parameters/JobId"
        - name: dryRun
          in: query
          required: false
          description: "`true`: only say what would run."
          schema:
            type: boolean
      responses:
        "200":
          description: The plan of a dry run; nothing was written.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/RerunChainPlan"
        "201":
          description: The jobs submitted, in an order where each comes after the jobs it depends on.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/RerunChainPlan"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "403":
          $ref: "#/components/responses/Forbidden"
        "404":
          $ref: "#/components/responses/NotFound"
        "409":
          description: The job has not ended yet, or it is part of a JOB_GROUP.
          content:
            application/problem+json:
              schema:
                $ref: "#/components/schemas/Problem"
        "429":
          $ref: "#/components/responses/QueueQuota"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
  /api/v1/objects:
    post:
      tags: [objects]
      operationId: createObject
      summary: Create an object (DATA, FLOW or SCHEMA)
      description: |
        Creates object version 1 with tag version 1, its attributes set by `attrs` (applied in order
        to an empty tag). Objects that can be created directly: DATA (with a SCHEMA object reference
        or an inline schema; no content), FLOW and SCHEMA. FILE objects need content: upload them with
        `POST /api/v1/files`. MODEL objects come from IMPORT_MODEL jobs and JOB objects from
        submitting jobs (422 for both). A DATA object's `schema` reference is pinned to the exact
        SCHEMA version. Everything is checked before anything is written.
      requestBody:
        required: true
        description: At most `gateway.maxBodyBytes` bytes.
        content:
          application/json:
            schema:
              $ref: "#/components/schemas/CreateObjectRequest"
            examples:
              schema:
                value:
                  definition:
                    objectType: SCHEMA
                    schema:
                      fields:
                        - fieldName: customer_id
                          fieldType: STRING
                          businessKey: true
                          notNull: true
                        - fieldName: balance
                          fieldType: DECIMAL
                  attrs:
                    - attrName: domain
                      value: customers
              flow:
                value:
                  definition:
                    objectType: FLOW
                    flow:
                      nodes:
                        customers:
                          nodeType: INPUT_NODE
                        score:
                          nodeType: MODEL_NODE
                          inputs: [customers]
                          outputs: [scores]
                        scores:
                          nodeType: OUTPUT_NODE
                      edges:
                        - source:
                            node: customers
                          target:
                            node: score
                            socket: customers
                        - source:
                            node: score
                            socket: scores
                          target:
                            node: scores
      responses:
        "201":
          description: The object (version 1, tag version 1).
          headers:
            Location:
              $ref: "#/components/headers/ObjectLocation"
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/ObjectRecord"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "403":
          $ref: "#/components/responses/Forbidden"
        "413":
          $ref: "#/components/responses/ContentTooLarge"
        "422":
          $ref: "#/components/responses/Unprocessable"
        "429":
          $ref: "#/components/responses/RateLimited"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
  /api/v1/objects/{id}:
    get:
      tags: [objects]
      operationId: getObject
      summary: One version of an object, with one version of its tag
      description: |
        Picks the object version by `objectVersion` or `objectAsOf` (default: the latest), and the
        tag version of that object version by `tagVersion` or `tagAsOf` (default: its latest tag).
        At most one criterion of each kind (400, field `selector`). 403 for an object of another
        owner that is not shared with a team of the caller's (see `ObjectRecord.owner`).
      parameters:
        - $ref: "#/components/parameters/ObjectId"
        - $ref: "#/components/parameters/ObjectVersionQuery"
        - $ref: "#/components/parameters/ObjectAsOfQuery"
        - $ref: "#/components/parameters/TagVersionQuery"
        - $ref: "#/components/parameters/TagAsOfQuery"
      responses:
        "200":
          description: The object version and tag version.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/ObjectRecord"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "403":
          $ref: "#/components/responses/Forbidden"
        "404":
          $ref: "#/components/responses/NotFound"
        "429":
          $ref: "#/components/responses/RateLimited"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
  /api/v1/objects/{id}/versions:
    get:
      tags: [objects]
      operationId: listObjectVersions
      summary: Every version of an object
      description: Every object version, each with its latest tag version, oldest first.
      parameters:
        - $ref: "#/components/parameters/ObjectId"
      responses:
        "200":
          description: The versions, oldest first.
          content:
            application/json:
              schema:
                type: array
                items:
                  $ref: "#/components/schemas/ObjectRecord"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "403":
          $ref: "#/components/responses/Forbidden"
        "404":
          $ref: "#/components/responses/NotFound"
        "429":
          $ref: "#/components/responses/RateLimited"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
    post:
      tags: [objects]
      operationId: createObjectVersion
      summary: Create the next version of an object
      description: |
        Creates the next object version of an existing object (with tag version 1 holding the
        attributes set by `attrs`; the previous version's attributes are not carried over). The
        definition must keep the object's type (422, field `definition.objectType`), and the same
        types can be created as with `POST /api/v1/objects` (FILE versions are uploaded with
        `POST /api/v1/files?objectId=`). With `priorVersion=N`, the version is only created while N
        is still the latest version (compare-and-set; 409 otherwise); without it, the new version
        follows whatever is latest. Writers of one object take turns (new versions and tag updates
        hold a per-object lock), so of concurrent requests with the same `priorVersion` exactly one
        succeeds and the others get 409.
      parameters:
        - $ref: "#/components/parameters/ObjectId"
        - name: priorVersion
          in: query
          required: false
          description: The version the client last saw; must still be the latest.
          schema:
            type: integer
            minimum: 1
            maximum: 2147483647
      requestBody:
        required: true
        description: At most `gateway.maxBodyBytes` bytes.
        content:
          application/json:
            schema:
              $ref: "#/components/schemas/CreateObjectRequest"
      responses:
        "201":
          description: The new object version (tag version 1).
          headers:
            Location:
              $ref: "#/components/headers/ObjectLocation"
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/ObjectRecord"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "403":
          $ref: "#/components/responses/Forbidden"
        "404":
          $ref: "#/components/responses/NotFound"
        "409":
          description: "`priorVersion` is no longer the latest version; nothing was written."
          content:
            application/problem+json:
              schema:
                $ref: "#/components/schemas/Problem"
        "413":
          $ref: "#/components/responses/ContentTooLarge"
        "422":
          $ref: "#/components/responses/Unprocessable"
        "429":
          $ref: "#/components/responses/RateLimited"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
  /api/v1/objects/{id}/versions/{version}/tags:
    get:
      tags: [objects]
      operationId: listTagVersions
      summary: Every tag version of one object version
      description: Every tag version of the object version, oldest first.
      parameters:
        - $ref: "#/components/parameters/ObjectId"
        - name: version
          in: path
          required: true
          description: The object version (400, field `version`, unless an integer from 1 to 2147483647).
          schema:
            type: integer
            minimum: 1
            maximum: 2147483647
      responses:
        "200":
          description: The tag versions, oldest first (each a complete object record).
          content:
            application/json:
              schema:
                type: array
                items:
                  $ref: "#/components/schemas/ObjectRecord"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "403":
          $ref: "#/components/responses/Forbidden"
        "404":
          $ref: "#/components/responses/NotFound"
        "429":
          $ref: "#/components/responses/RateLimited"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
  /api/v1/objects/{id}/tags:
    post:
      tags: [objects]
      operationId: updateObjectTag
      summary: Update an object version's attributes
      description: |
        Applies `updates` in order to the attributes of one object version (default the latest,
        or `objectVersion`), creating its next tag version; the object version itself never changes.
        With `tagVersion`, the update only happens while that is still the latest tag version of the
        object version (compare-and-set; 409 otherwise). Writers of one object take turns (a
        per-object lock), so of concurrent updates with the same `tagVersion` exactly one succeeds
        and the others get 409. Every failing update is listed (422, fields
        `updates[i].attrName` / `updates[i].value`). Only the tags of an object's latest version are
        searchable.
      parameters:
        - $ref: "#/components/parameters/ObjectId"
      requestBody:
        required: true
        description: At most `gateway.maxBodyBytes` bytes.
        content:
          application/json:
            schema:
              $ref: "#/components/schemas/UpdateTagRequest"
            examples:
              setAndDelete:
                value:
                  tagVersion: 1
                  updates:
                    - attrName: region
                      value: EU
                    - operation: CREATE_OR_APPEND
                      attrName: reviewers
                      value: alice
                    - operation: DELETE
                      attrName: draft
      responses:
        "200":
          description: The object version with its new tag version.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/ObjectRecord"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "403":
          $ref: "#/components/responses/Forbidden"
        "404":
          $ref: "#/components/responses/NotFound"
        "409":
          description: "`tagVersion` is no longer the latest tag version; nothing was written."
          content:
            application/problem+json:
              schema:
                $ref: "#/components/schemas/Problem"
        "413":
          $ref: "#/components/responses/ContentTooLarge"
        "422":
          $ref: "#/components/responses/Unprocessable"
        "429":
          $ref: "#/components/responses/RateLimited"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
  /api/v1/objects/{id}/sharing:
    put:
      tags: [objects]
      operationId: shareObject
      summary: Share an object with teams
      description: |
        Sets the teams whose members may read the object, every version of it (`*`: every user;
        `[]`: nobody but its owner, operators and admins). Only its owner or an admin may (403,
        whatever teams the request names), and a user only with teams they belong to (422 naming
        each other team). Members of those teams
        read, search, download and run jobs with it; they do not change it.
      parameters:
        - $ref: "#/components/parameters/ObjectId"
      requestBody:
        required: true
        content:
          application/json:
            schema:
              $ref: "#/components/schemas/ObjectSharingRequest"
            examples:
              team:
                value:
                  sharedWith: [risk]
      responses:
        "200":
          description: The object's owner and its teams now.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/ObjectSharing"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "403":
          $ref: "#/components/responses/Forbidden"
        "404":
          $ref: "#/components/responses/NotFound"
        "413":
          $ref: "#/components/responses/ContentTooLarge"
        "422":
          $ref: "#/components/responses/Unprocessable"
        "429":
          $ref: "#/components/responses/RateLimited"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
  /api/v1/objects/{id}/rerun-downstream:
    post:
      tags: [objects]
      operationId: rerunDownstream
      summary: Re-run the jobs that read an older version of an object, on its latest version
      description: |
        Finds the jobs whose inputs (of `runModel`, `runFlow`, `importData` or `exportData`) name the
        object (GIN index `jobs_inputs`), top-level jobs only and the newest of each line of re-runs.
        Each that has ended and read a version older than the latest runs again with its recorded,
        pinned definition, that input now pinned to the latest version (`readVersions` says what it
        read; a flow runs whole; outputs cleared, no idempotency key), checked again as a submission
        is (a job whose models no longer accept the new version makes the whole request 422, naming
        the job). Jobs that already read the latest are kept (`reused`); jobs not ended are left
        (`active`). Everything is submitted in one transaction. With `dryRun=true` nothing is written
        and the answer says what would run. Jobs that read the outputs of the jobs run again are not
        followed (their inputs stay pinned to the versions they read). No request body is read.
      parameters:
        - $ref: "#/components/parameters/ObjectId"
        - name: dryRun
          in: query
          required: false
          description: "`true`: only say what would run."
          schema:
            type: boolean
      responses:
        "200":
          description: The plan of a dry run; nothing was written.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/RerunChainPlan"
        "201":
          description: The jobs submitted.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/RerunChainPlan"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "403":
          $ref: "#/components/responses/Forbidden"
        "404":
          $ref: "#/components/responses/NotFound"
        "422":
          $ref: "#/components/responses/Unprocessable"
        "429":
          $ref: "#/components/responses/QueueQuota"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
  /api/v1/objects/{id}/content:
    get:
      tags: [objects]
      operationId: getObjectContent
      summary: Download the content of a FILE (or a stored DATA object)
      description: |
        The stored bytes of the selected version (same selector parameters as
        `GET /api/v1/objects/{id}`). `Content-Type` is the FILE's `mimeType`, or the DATA object's
        `format`, or `application/octet-stream`. The answer is always a download:
        `Content-Disposition: attachment` with the FILE's `name` as `filename` (a DATA object:
        `<objectId>-v<objectVersion>`), and `X-Content-Type-Options: nosniff`, so browsers neither
        render the content nor guess another type. 422 for objects without stored content (MODEL,
        FLOW, SCHEMA, JOB, and DATA objects created through the API) and for content larger than
        33554432 bytes; 404 when the content is missing from storage.
      parameters:
        - $ref: "#/components/parameters/ObjectId"
        - $ref: "#/components/parameters/ObjectVersionQuery"
        - $ref: "#/components/parameters/ObjectAsOfQuery"
        - $ref: "#/components/parameters/TagVersionQuery"
        - $ref: "#/components/parameters/TagAsOfQuery"
      responses:
        "200":
          description: The content.
          headers:
            Content-Disposition:
              description: |
                `attachment; filename="<name>"`: the FILE's name, or `<objectId>-v<objectVersion>`
                for a DATA object (object id in lower case). Non-ASCII characters, control
                characters below U+0020, `"` and `\` are removed.
              schema:
                type: string
              example: attachment; filename="notes.txt"
            X-Content-Type-Options:
              description: Tells browsers not to guess a media type other than `Content-Type`.
              schema:
                type: string
                const: nosniff
          content:
            "*/*":
              schema:
                type: string
                format: binary
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "403":
          $ref: "#/components/responses/Forbidden"
        "404":
          $ref: "#/components/responses/NotFound"
        "422":
          description: The object has no stored content, or it is too large to serve.
          content:
            application/problem+json:
              schema:
                $ref: "#/components/schemas/Problem"
        "429":
          $ref: "#/components/responses/RateLimited"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
  /api/v1/files:
    post:
      tags: [objects]
      operationId: uploadFile
      summary: Upload a file as a FILE object
      description: |
        Stores the raw request body as a FILE object named `name`, with the media type of the
        request's `Content-Type` (parameters such as `charset` dropped; `application/octet-stream`
        when absent). metadata records `sizeBytes` and the SHA-256 of the content. With `objectId`,
        the upload becomes the next version of that FILE object (422 if it is not a FILE), and with
        `priorVersion` as well, only while that version is still the latest (409 otherwise).
        `priorVersion` without `objectId` is ignored. Problems with the file name or media type are
        reported against `definition.file.name` / `definition.file.mimeType`.
      parameters:
        - name: name
          in: query
          required: true
          description: The file name, 1-255 printable characters without `/` (not `.` or `..`).
          schema:
            type: string
            minLength: 1
            maxLength: 255
        - name: sharedWith
          in: query
          required: false
          description: Teams (comma-separated) whose members may read the new object (`*`, every user); not with `objectId`.
          schema:
            type: string
            maxLength: 10200
        - name: objectId
          in: query
          required: false
          description: An existing FILE object to add a version to.
          schema:
            $ref: "#/components/schemas/Uuid"
        - name: priorVersion
          in: query
          required: false
          description: With `objectId`, the version that must still be the latest.
          schema:
            type: integer
            minimum: 1
            maximum: 2147483647
        - name: Content-Type
          in: header
          required: false
          description: The file's media type (`type/subtype`).
          schema:
            type: string
      requestBody:
        required: true
        description: The raw file content, at most `gateway.maxUploadBytes` (default 33554432) bytes.
        content:
          "*/*":
            schema:
              type: string
              format: binary
      responses:
        "201":
          description: The FILE object version.
          headers:
            Location:
              $ref: "#/components/headers/ObjectLocation"
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/ObjectRecord"
        "400":
          description: "`name` is missing, or `objectId` is not a UUID, or `priorVersion` is not a positive integer."
          content:
            application/problem+json:
              schema:
                $ref: "#/components/schemas/Problem"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "403":
          $ref: "#/components/responses/Forbidden"
        "404":
          description: No object `objectId`.
          content:
            application/problem+json:
              schema:
                $ref: "#/components/schemas/Problem"
        "409":
          description: "`priorVersion` is no longer the latest version; nothing was written."
          content:
            application/problem+json:
              schema:
                $ref: "#/components/schemas/Problem"
        "413":
          $ref: "#/components/responses/ContentTooLarge"
        "422":
          $ref: "#/components/responses/Unprocessable"
        "429":
          $ref: "#/components/responses/RateLimited"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
  /api/v1/data:
    post:
      tags: [objects]
      operationId: uploadData
      summary: Upload a data set as a DATA object
      description: |
        Stores the raw request body as the content of a DATA object whose `format` is the request's
        `Content-Type` (`application/octet-stream` when absent), described by the SCHEMA object
        `schemaId` (pinned to `schemaVersion`, or its latest version). For `text/csv` content the
        header row must name exactly the schema's fields (any order, any case), otherwise 422 with a
        problem on `content`; the content may start with a UTF-8 byte order mark (EF BB BF), which is
        skipped when the header is read (and stored as it came). With `objectId`, the upload becomes
        the next version of that DATA object, and with `priorVersion` only while that version is
        still the latest (409 otherwise).
      parameters:
        - name: schemaId
          in: query
          required: false
          description: The SCHEMA object that describes the data.
          schema:
            $ref: "#/components/schemas/Uuid"
        - name: schemaVersion
          in: query
          required: false
          description: With `schemaId`, the schema version to pin (default the latest).
          schema:
            type: integer
            minimum: 1
            maximum: 2147483647
        - name: sharedWith
          in: query
          required: false
          description: Teams (comma-separated) whose members may read the new object (`*`, every user); not with `objectId`.
          schema:
            type: string
            maxLength: 10200
        - name: objectId
          in: query
          required: false
          description: An existing DATA object to add a version to.
          schema:
            $ref: "#/components/schemas/Uuid"
        - name: priorVersion
          in: query
          required: false
          description: With `objectId`, the version that must still be the latest.
          schema:
            type: integer
            minimum: 1
            maximum: 2147483647
        - name: Content-Type
          in: header
          required: false
          description: The data's format as a media type, e.g. `text/csv`.
          schema:
            type: string
      requestBody:
        required: true
        description: The raw content, at most `gateway.maxUploadBytes` (default 33554432) bytes.
        content:
          "*/*":
            schema:
              type: string
              format: binary
      responses:
        "201":
          description: The DATA object version.
          headers:
            Location:
              $ref: "#/components/headers/ObjectLocation"
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/ObjectRecord"
        "400":
          description: "`name` is missing, or `objectId` is not a UUID, or `priorVersion` is not a positive integer."
          content:
            application/problem+json:
              schema:
                $ref: "#/components/schemas/Problem"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "403":
          $ref: "#/components/responses/Forbidden"
        "404":
          description: No object `objectId`.
          content:
            application/problem+json:
              schema:
                $ref: "#/components/schemas/Problem"
        "409":
          description: "`priorVersion` is no longer the latest version; nothing was written."
          content:
            application/problem+json:
              schema:
                $ref: "#/components/schemas/Problem"
        "413":
          $ref: "#/components/responses/ContentTooLarge"
        "422":
          $ref: "#/components/responses/Unprocessable"
        "429":
          $ref: "#/components/responses/RateLimited"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
  /api/v1/search:
    post:
      tags: [objects]
      operationId: searchObjects
      summary: Search objects by their attributes
      description: |
        Objects whose tag matches `search` (all objects without it), optionally of one `objectType`,
        among those the caller may read (their own, those shared with a team of theirs or with
        `*`, those without an owner; operators and admins every object). Searches the latest tag of each object's latest version, or with `asOf` the tags that were
        current then. Newest tag first. Pages are read from one snapshot: the cursor holds the time
        of the first page and overrides `asOf`; send the same `objectType` and `search` with it.
        Known limit: a tag change whose transaction started before the first page ran but committed
        after it is dated before that time, so the first page did not see it and later pages can
        miss that object.
        `limit` (1-500, default 50), the expression and the cursor are checked by metadata (422).
      requestBody:
        required: true
        description: At most `gateway.maxBodyBytes` bytes.
        content:
          application/json:
            schema:
              $ref: "#/components/schemas/SearchRequest"
            examples:
              euData:
                value:
                  objectType: DATA
                  search:
                    and:
                      - term:
                          attrName: region
                          operator: EQ
                          value: EU
                      - term:
                          attrName: rows
                          operator: GE
                          value: 1000
                      - not:
                          term:
                            attrName: draft
                            operator: EXISTS
                  limit: 20
      responses:
        "200":
          description: One page of objects.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/ObjectPage"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "413":
          $ref: "#/components/responses/ContentTooLarge"
        "422":
          $ref: "#/components/responses/Unprocessable"
        "429":
          $ref: "#/components/responses/RateLimited"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
  /api/v1/events:
    get:
      tags: [jobs]
      operationId: followEvents
      summary: Follow job status changes, queue positions and log growth as server-sent events
      description: |
        The caller's job status changes, as they happen (read from metadata's status history by one
        poller per gateway, every 250 ms while anyone follows), as server-sent events
        (`text/event-stream`, `Cache-Control: no-cache`, `X-Accel-Buffering: no`). A user follows
        their own jobs; operators and admins follow everyone's, or one owner's with `owner`.

        Every 2 s the stream also looks at the jobs it follows (up to 20 queued and 100 running:
        those active when it opened and those that become so) and sends, without an `id`:
        a `queue` event for each queued job whose place changed, `{"jobId", "position", "ahead",
        "estimatedStartAt"?, "waitingReason"?, "notBefore"?}` (as `GET /api/v1/jobs/{id}/queue`
        answers), and a `log` event for each running job whose log grew, `{"jobId", "attempt",
        "bytes"}` (the bytes of the attempt's log stored so far: read them from
        `GET /api/v1/jobs/{id}/log?offset=` or follow `/log/stream`). These are the state now, not
        history: a reconnected stream sends them again.

        Each `job` event's `id` is the change's event id, `<microseconds>_<job id>_<position>`, and
        its data a `JobStatusChange`. The stream starts with a `retry: 2000` line and a comment, sends a
        `: keep-alive` comment every 15 s, and never ends by itself.

        To resume, reconnect (to any gateway, also after a restart) with `Last-Event-ID` (browsers'
        EventSource send it by themselves) or `after`: the changes after that id are read from the
        history first, then the stream goes on live. A resumed stream repeats the changes of the 2 s
        before that id (a change committed late can carry an earlier time); an id names one change,
        so drop the ids you already have. A client that does not keep up (10,000 changes behind) is
        disconnected and resumes the same way.
      parameters:
        - name: owner
          in: query
          required: false
          description: Operators and admins only (a user naming anyone else gets 403).
          schema:
            type: string
            minLength: 1
            maxLength: 200
        - name: after
          in: query
          required: false
          description: Resume after this event id (as `Last-Event-ID`, which wins).
          schema:
            type: string
            pattern: "^[0-9]+_[0-9a-fA-F-]{36}_[0-9]+$"
        - name: Last-Event-ID
          in: header
          required: false
          description: The id of the last event received.
          schema:
            type: string
            pattern: "^[0-9]+_[0-9a-fA-F-]{36}_[0-9]+$"
      responses:
        "200":
          description: The event stream (endless).
          headers:
            Cache-Control:
              schema:
                type: string
                const: no-cache
          content:
            text/event-stream:
              schema:
                description: One `job`, `queue` or `log` event, as an event-stream parser reads it.
                oneOf:
                  - type: object
                    required: [event, id, data]
                    properties:
                      event:
                        const: job
                      id:
                        type: string
                      data:
                        $ref: "#/components/schemas/JobStatusChange"
                  - type: object
                    required: [event, data]
                    properties:
                      event:
                        const: queue
                      data:
                        $ref: "#/components/schemas/JobQueueEvent"
                  - type: object
                    required: [event, data]
                    properties:
                      event:
                        const: log
                      data:
                        $ref: "#/components/schemas/JobLogEvent"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "403":
          $ref: "#/components/responses/Forbidden"
        "429":
          $ref: "#/components/responses/RateLimited"
  /api/v1/me:
    get:
      tags: [identity]
      operationId: getMe
      summary: Who the caller is
      description: The identity the gateway established from the bearer credential.
      responses:
        "200":
          description: The caller.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Principal"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "429":
          $ref: "#/components/responses/RateLimited"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
  /api/v1/me/notification:
    get:
      tags: [identity]
      operationId: getNotificationDefault
      summary: The caller's default e-mail settings
      description: What the caller's jobs without a `notification` section take when submitted (no `settings`, none).
      responses:
        "200":
          description: The default.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/NotificationDefault"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "429":
          $ref: "#/components/responses/RateLimited"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
    put:
      tags: [identity]
      operationId: setNotificationDefault
      summary: Set the caller's default e-mail settings
      description: |
        Jobs submitted from now on without a `notification` section take these settings (recorded
        with each job). 422 naming each problem.
      requestBody:
        required: true
        content:
          application/json:
            schema:
              $ref: "#/components/schemas/NotificationSettings"
            example:
              email: [ann@example.com]
              when: FAILURE
      responses:
        "200":
          description: The new default.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/NotificationDefault"
        "400":
          $ref: "#/components/responses/BadRequest"
        "413":
          $ref: "#/components/responses/ContentTooLarge"
        "422":
          $ref: "#/components/responses/Unprocessable"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "429":
          $ref: "#/components/responses/RateLimited"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
    delete:
      tags: [identity]
      operationId: clearNotificationDefault
      summary: Clear the caller's default e-mail settings
      responses:
        "200":
          description: The default, now without settings.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/NotificationDefault"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "429":
          $ref: "#/components/responses/RateLimited"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
  /api/v1/audit:
    get:
      tags: [identity]
      operationId: listAudit
      summary: The audit trail (admins)
      description: |
        Every request that changed something (submit, cancel, re-run, object created or versioned,
        tag changed, upload, token issued or revoked, a default e-mail setting), and every such
        request refused (4xx), newest first: who (`principal`, `role`), when, from where
        (`remoteAddress`), what (`action`, `method`, `path`), on what (`target`: the job, object or
        token, also the one created) and how it ended (`status`), with the request's
        `X-Request-Id`. The gateway sends its entries every 200 ms, after the answer.
      parameters:
        - name: principal
          in: query
          required: false
          schema:
            type: string
            minLength: 1
            maxLength: 200
        - name: action
          in: query
          required: false
          description: e.g. `job.submit`, `job.cancel`, `token.issue`.
          schema:
            type: string
            minLength: 1
            maxLength: 200
        - name: target
          in: query
          required: false
          description: A job, object or token id (lower case).
          schema:
            type: string
            minLength: 1
            maxLength: 200
        - name: from
          in: query
          required: false
          schema:
            type: string
            format: date-time
        - name: to
          in: query
          required: false
          schema:
            type: string
            format: date-time
        - name: limit
          in: query
          required: false
          schema:
            type: integer
            minimum: 1
            maximum: 500
            default: 50
        - name: cursor
          in: query
          required: false
          description: The previous page's `nextCursor`.
          schema:
            type: string
            pattern: "^[0-9]+$"
      responses:
        "200":
          description: A page of entries.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/AuditPage"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "403":
          $ref: "#/components/responses/Forbidden"
        "429":
          $ref: "#/components/responses/RateLimited"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
  /api/v1/tokens:
    post:
      tags: [identity]
      operationId: issueToken
      summary: Issue an API token (admins)
      description: |
        Issues a token for `principal` with `role` (default `user`), valid `expiresInDays` (default
        90). The answer holds the token's secret (`token`) this once; metadata keeps only its SHA-256.
      requestBody:
        required: true
        content:
          application/json:
            schema:
              $ref: "#/components/schemas/TokenRequest"
            example:
              principal: ann
              role: user
              teams: [research]
              label: ann's laptop
              expiresInDays: 30
      responses:
        "201":
          description: The token, with its secret.
          headers:
            Location:
              description: "`/api/v1/tokens/{tokenId}`"
              schema:
                type: string
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/IssuedToken"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "403":
          $ref: "#/components/responses/Forbidden"
        "413":
          $ref: "#/components/responses/ContentTooLarge"
        "422":
          $ref: "#/components/responses/Unprocessable"
        "429":
          $ref: "#/components/responses/RateLimited"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
    get:
      tags: [identity]
      operationId: listTokens
      summary: The tokens issued (admins)
      description: Newest first, revoked and expired ones included; never their secrets.
      parameters:
        - name: principal
          in: query
          required: false
          description: Only this principal's tokens.
          schema:
            type: string
            minLength: 1
            maxLength: 200
      responses:
        "200":
          description: The tokens.
          content:
            application/json:
              schema:
                type: array
                items:
                  $ref: "#/components/schemas/APIToken"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "403":
          $ref: "#/components/responses/Forbidden"
        "429":
          $ref: "#/components/responses/RateLimited"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
  /api/v1/tokens/{id}:
    delete:
      tags: [identity]
      operationId: revokeToken
      summary: Revoke an API token (admins)
      description: |
        The token is refused from then on, at every gateway within `auth.cacheSeconds` (default 10).
        Revoking a revoked token answers its record again.
      parameters:
        - name: id
          in: path
          required: true
          description: The token id (400, field `id`, unless a UUID).
          schema:
            type: string
            format: uuid
      responses:
        "200":
          description: The revoked token.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/APIToken"
        "400":
          $ref: "#/components/responses/BadRequest"
        "401":
          $ref: "#/components/responses/Unauthorized"
        "403":
          $ref: "#/components/responses/Forbidden"
        "404":
          $ref: "#/components/responses/NotFound"
        "429":
          $ref: "#/components/responses/RateLimited"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
  /api/v1/openapi.yaml:
    get:
      tags: [meta]
      operationId: getOpenAPI
      security: []
      summary: This OpenAPI document
      description: The document kept in `docs/openapi.yaml`, embedded in the gateway at build time.
      responses:
        "200":
          description: The OpenAPI 3.1 document.
          content:
            application/yaml; charset=utf-8:
              schema:
                type: string
  /healthz:
    get:
      tags: [health]
      operationId: health
      security: []
      summary: Gateway health
      description: |
        Readiness of the gateway: check `amqp` is true while its AMQP connection (used for RPC to
        metadata) is up. 200 when every check passes, 503 otherwise; the same JSON report either way
        (not a problem document).
      responses:
        "200":
          description: Every check passes.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Health"
        "503":
          description: A check fails.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/Health"
components:
  securitySchemes:
    bearerAuth:
      type: http
      scheme: bearer
      description: |
        An API token (`cvy_` and 43 characters) or, where `auth.jwt.issuers` is set, a JWT signed by
        a key of the configured JWKS whose `iss` is one of those issuers (and `aud` includes
        `auth.jwt.audience` when set); its `sub` is the principal, `role` and `teams` claims give the
        role (default `user`) and teams.
  parameters:
    JobId:
      name: id
      in: path
      required: true
      description: The job id (400, field `id`, unless a UUID).
      schema:
        $ref: "#/components/schemas/Uuid"
    ObjectId:
      name: id
      in: path
      required: true
      description: The object id (400, field `id`, unless a UUID).
      schema:
        $ref: "#/components/schemas/Uuid"
    IdempotencyKeyForSubmit:
      name: Idempotency-Key
      in: header
      required: false
      description: |
        Used as `idempotencyKey` when the body does not set one; checked like it (1-200 printable
        characters, else 422 with field `idempotencyKey`).
      schema:
        type: string
        minLength: 1
        maxLength: 200
    ObjectVersionQuery:
      name: objectVersion
      in: query
      required: false
      description: An exact object version (default the latest). Not with `objectAsOf`.
      schema:
        type: integer
        minimum: 1
        maximum: 2147483647
    ObjectAsOfQuery:
      name: objectAsOf
      in: query
      required: false
      description: The object version that was current at this time. Not with `objectVersion`.
      schema:
        $ref: "#/components/schemas/DateTime"
    TagVersionQuery:
      name: tagVersion
      in: query
      required: false
      description: An exact tag version of the selected object version (default its latest). Not with `tagAsOf`.
      schema:
        type: integer
        minimum: 1
        maximum: 2147483647
    TagAsOfQuery:
      name: tagAsOf
      in: query
      required: false
      description: The tag version that was current at this time. Not with `tagVersion`.
      schema:
        $ref: "#/components/schemas/DateTime"
  headers:
    JobLocation:
      description: "`/api/v1/jobs/{jobId}` with the job id in lower case."
      schema:
        type: string
      example: /api/v1/jobs/0f8fad5b-d9cb-469f-a165-70867728950e
    ObjectLocation:
      description: "`/api/v1/objects/{objectId}?objectVersion={n}` with the object id in lower case."
      schema:
        type: string
      example: /api/v1/objects/7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d?objectVersion=1
  responses:
    BadRequest:
      description: |
        The body is not valid UTF-8, not valid JSON, or of the wrong type at the top level (field `$`);
        a path parameter is malformed (field `id` or `version`); or query parameters are invalid (one
        entry per parameter, e.g. `limit`, `objectAsOf`, or `selector` when two criteria of one kind
        are given).
      content:
        application/problem+json:
          schema:
            $ref: "#/components/schemas/Problem"
          example:
            type: about:blank
            title: Bad Request
            status: 400
            detail: invalid query parameters
            errors:
              - field: limit
                reason: must be an integer between 1 and 500
    NotFound:
      description: No such job or object (or object version, or tag version).
      content:
        application/problem+json:
          schema:
            $ref: "#/components/schemas/Problem"
    ContentTooLarge:
      description: |
        The body is larger than the route allows (`gateway.maxBodyBytes` for JSON bodies,
        `gateway.maxUploadBytes` for uploads, 16384 bytes for a cancel).
      content:
        application/problem+json:
          schema:
            $ref: "#/components/schemas/Problem"
    Unprocessable:
      description: |
        The body is well-formed JSON but invalid. `errors` lists every problem by JSON path: wrong
        types, missing or unknown fields, values out of range, and references to objects that do not
        exist, have the wrong type, or do not declare the parameters and inputs used.
      content:
        application/problem+json:
          schema:
            $ref: "#/components/schemas/Problem"
          example:
            type: about:blank
            title: Unprocessable Content
            status: 422
            detail: the request is invalid
            errors:
              - field: runModel.model.objectId
                reason: "'abc' is not a valid UUID"
              - field: priority
                reason: must be between 0 and 100
              - field: notification.email[0]
                reason: not a valid e-mail address
    QueueQuota:
      description: |
        The caller is over their request rate (see `RateLimited`, with `Retry-After`), or the job's owner already has `quotas.maxQueuedPerOwner` jobs waiting (PENDING or QUEUED); nothing
        was written. Submit again when some have started.
      content:
        application/problem+json:
          schema:
            $ref: "#/components/schemas/Problem"
          example:
            type: about:blank
            title: Too Many Requests
            status: 429
            detail: owner ann has 2 jobs waiting; the most this deployment allows is 2 (quotas.maxQueuedPerOwner)
    Unauthorized:
      description: |
        No `Authorization: Bearer` credential, or one that is unknown, revoked, expired, malformed,
        or signed, issued or addressed otherwise than this gateway trusts. `WWW-Authenticate: Bearer`.
      headers:
        WWW-Authenticate:
          schema:
            type: string
      content:
        application/problem+json:
          schema:
            $ref: "#/components/schemas/Problem"
          example:
            type: about:blank
            title: Unauthorized
            status: 401
            detail: "this request needs an identity: send Authorization: Bearer <token>"
    Forbidden:
      description: |
        The caller may not do this: another owner's job (a user sees, follows, cancels and re-runs
        only their own; operators see and cancel all; re-runs of another's job and naming another
        `owner` are for admins); another owner's object that is not shared with a team of the
        caller's (reading it, or a job or DATA set referring to it; `errors` names each field), or
        changing an object that is not the caller's (new versions, tags and sharing are for its
        owner and admins); or an operation for admins.
      content:
        application/problem+json:
          schema:
            $ref: "#/components/schemas/Problem"
          example:
            type: about:blank
            title: Forbidden
            status: 403
            detail: job 0f8fad5b-d9cb-469f-a165-70867728950e belongs to another owner; you see only your own jobs
    RateLimited:
      description: |
        The caller made more requests a second than their token allows (`requestsPerSecond`, else
        `gateway.rateLimit.requestsPerSecond`; bursts up to twice that); retry after `Retry-After` seconds.
      headers:
        Retry-After:
          schema:
            type: integer
      content:
        application/problem+json:
          schema:
            $ref: "#/components/schemas/Problem"
    InternalError:
      description: Internal error; details only in the service log.
      content:
        application/problem+json:
          schema:
            $ref: "#/components/schemas/Problem"
    Unavailable:
      description: The message broker or the database is unavailable; retry.
      content:
        application/problem+json:
          schema:
            $ref: "#/components/schemas/Problem"
    Timeout:
      description: |
        metadata did not answer within `amqp.rpcTimeoutSeconds`; retry (with the same
        `Idempotency-Key` for submissions).
      content:
        application/problem+json:
          schema:
            $ref: "#/components/schemas/Problem"
  schemas:
    Uuid:
      type: string
      format: uuid
      description: A UUID; accepted in any case. Response bodies currently write upper case.
      examples: [0F8FAD5B-D9CB-469F-A165-70867728950E]
    DateTime:
      type: string
      format: date-time
      description: |
        ISO 8601 with an offset. Responses: UTC with six fractional digits. Requests: any offset and
        any number of fractional digits (microseconds kept).
      examples: ["2026-11-21T12:00:00.123456Z"]
    AttributeName:
      type: string
      description: |
        1-100 ASCII letters, digits or `_`, not starting with a digit. Names starting with
        `conveyor_` are reserved for the platform.
      pattern: "^[A-Za-z_][A-Za-z0-9_]{0,99}$"
    JobType:
      type: string
      description: |
        TRAC's job types. Which of them a deployment accepts is set by `metadata.enabledJobTypes`
        (default: all); others are refused with 422 (field `jobType`).
      enum: [IMPORT_MODEL, IMPORT_DATA, EXPORT_DATA, RUN_MODEL, RUN_FLOW, JOB_GROUP]
    JobStatus:
      type: string
      description: |
        TRAC's job statuses. SUCCEEDED, FAILED and CANCELLED are terminal: nothing changes them.

        Legal transitions (`JobStatus.allowedNext`):

        | from | to |
        |---|---|
        | PREPARING | VALIDATED, FAILED, CANCELLED |
        | VALIDATED | PENDING, QUEUED, FAILED, CANCELLED |
        | PENDING | QUEUED, FAILED, CANCELLED |
        | QUEUED | SUBMITTED, FAILED, CANCELLED |
        | SUBMITTED | RUNNING, QUEUED, FAILED, CANCELLED |
        | RUNNING | FINISHING, SUCCEEDED, FAILED, CANCELLED, QUEUED |
        | FINISHING | SUCCEEDED, FAILED, CANCELLED |
        | SUCCEEDED, FAILED, CANCELLED | (none) |

        SUBMITTED and RUNNING may go back to QUEUED: metadata re-queues an attempt whose worker stopped
        renewing its lease, and RUNNING goes back to QUEUED when a failed attempt is retried (`retry`);
        the next attempt gets a higher attempt number, so reports of the stale attempt are refused. A submitted job's history starts VALIDATED, QUEUED; a JOB_GROUP's continues at
        once with SUBMITTED, RUNNING; a job with `dependsOn` starts VALIDATED, PENDING while jobs it
        depends on have not ended (QUEUED once they have; CANCELLED at once, or later, when one it
        needs to succeed did not).
      enum: [PREPARING, VALIDATED, PENDING, QUEUED, SUBMITTED, RUNNING, FINISHING, SUCCEEDED, FAILED, CANCELLED]
    TerminalJobStatus:
      type: string
      enum: [SUCCEEDED, FAILED, CANCELLED]
    ObjectType:
      type: string
      description: TRAC's metadata object types.
      enum: [MODEL, DATA, FILE, FLOW, SCHEMA, JOB]
    BasicType:
      type: string
      description: |
        TRAC's basic types: the type of a parameter, an attribute or a schema field. Everything but
        ARRAY and MAP is scalar.
      enum: [BOOLEAN, INTEGER, FLOAT, DECIMAL, STRING, DATE, DATETIME, ARRAY, MAP]
    JobSort:
      type: string
      description: What a job listing is sorted by (ties broken by job id).
      enum: [submittedAt, startedAt, finishedAt, priority]
      default: submittedAt
    Value:
      description: |
        A typed value (TRAC's `Value`): job parameters, attribute values, defaults, search values.

        Canonical form (always used in responses): `{"type": BASICTYPE, "value": ...}`. DECIMAL,
        DATE and DATETIME values are strings (`"12.50"`, `"2026-11-21"`,
        `"2026-11-21T12:00:00.5Z"`) so they round-trip exactly.

        For convenience a request may give a plain JSON value, typed by its shape: `true` is BOOLEAN,
        a whole number INTEGER, another number FLOAT, a string STRING, an array ARRAY (of values), an
        object MAP (of values) unless it has a `type` member naming a basic type, in which case it is
        read as the canonical form. `null` is never a value. A plain whole number of magnitude
        9×10^15 or more is refused (422) rather than silently stored as a FLOAT: give it as a DECIMAL
        string to keep it exactly, or as `{"type": "FLOAT", "value": ...}`; an INTEGER holds at most
        ±9×10^15. Where a model declares a parameter's
        type, an INTEGER is converted to FLOAT or DECIMAL and a STRING to DECIMAL, DATE or DATETIME
        when that loses nothing.
      oneOf:
        - $ref: "#/components/schemas/TypedValue"
        - type: boolean
          description: Plain BOOLEAN.
        - type: number
          description: Plain INTEGER (a whole number below 9e15 in magnitude) or FLOAT (any other number).
        - type: string
          description: Plain STRING.
        - type: array
          description: Plain ARRAY.
          items:
            $ref: "#/components/schemas/Value"
        - type: object
          description: Plain MAP (an object without a `type` member naming a basic type).
          not:
            required: [type]
            properties:
              type:
                $ref: "#/components/schemas/BasicType"
          additionalProperties:
            $ref: "#/components/schemas/Value"
      examples:
        - type: INTEGER
          value: 42
        - type: DECIMAL
          value: "12.50"
        - type: ARRAY
          value:
            - type: STRING
              value: a
        - 42
        - EU
    TypedValue:
      type: object
      description: The canonical form of a `Value`.
      required: [type, value]
      additionalProperties: false
      properties:
        type:
          $ref: "#/components/schemas/BasicType"
        value:
          description: Its JSON type follows `type` (see the alternatives).
      oneOf:
        - properties:
            type:
              const: BOOLEAN
            value:
              type: boolean
        - properties:
            type:
              const: INTEGER
            value:
              type: integer
              format: int64
        - properties:
            type:
              const: FLOAT
            value:
              type: number
              format: double
        - properties:
            type:
              const: DECIMAL
            value:
              type: string
              description: A decimal number without exponent, e.g. `-12.50`.
              pattern: "^-?[0-9]+(\\.[0-9]+)?$"
        - properties:
            type:
              const: STRING
            value:
              type: string
        - properties:
            type:
              const: DATE
            value:
              type: string
              format: date
              description: YYYY-MM-DD (a real calendar date).
        - properties:
            type:
              const: DATETIME
            value:
              type: string
              format: date-time
              description: ISO 8601 with an offset, kept as given.
        - properties:
            type:
              const: ARRAY
            value:
              type: array
              items:
                $ref: "#/components/schemas/Value"
        - properties:
            type:
              const: MAP
            value:
              type: object
              additionalProperties:
                $ref: "#/components/schemas/Value"
    TagSelector:
      type: object
      description: |
        Picks one version of an object and one version of its tag (TRAC's `TagSelector`). For the
        object: `objectVersion`, or `objectAsOf` (the version current then), or the latest
        (`latestObject`, the default). For the tag: `tagVersion`, `tagAsOf` or `latestTag` (the
        default). At most one criterion of each kind. When a job is recorded, every selector in it is
        pinned: `objectType`, `objectVersion` and `tagVersion` are filled in. Versions are between 1
        and 2147483647 (422 otherwise).
      required: [objectId]
      additionalProperties: false
      properties:
        objectType:
          $ref: "#/components/schemas/ObjectType"
        objectId:
          $ref: "#/components/schemas/Uuid"
        objectVersion:
          type: integer
          minimum: 1
          maximum: 2147483647
        objectAsOf:
          $ref: "#/components/schemas/DateTime"
        latestObject:
          type: boolean
        tagVersion:
          type: integer
          minimum: 1
          maximum: 2147483647
        tagAsOf:
          $ref: "#/components/schemas/DateTime"
        latestTag:
          type: boolean
    TagUpdate:
      type: object
      description: |
        One change to an object's attributes (TRAC's `TagUpdate`). A list of updates is applied in
        order and produces one new tag version; every update that cannot be applied is reported.
        `attrName` is required for every operation but CLEAR_ALL; `value` for every operation but
        DELETE and CLEAR_ALL. Attribute values cannot be MAP values.
      additionalProperties: false
      properties:
        operation:
          type: string
          default: CREATE_OR_REPLACE
          description: |
            - `CREATE_OR_REPLACE` (default): set the attribute, replacing any value it had.
            - `CREATE_OR_APPEND`: set the attribute, or add the value(s) to it when it exists (making
              it multi-valued, an ARRAY; the types must match).
            - `CREATE`: set an attribute that must not exist yet.
            - `REPLACE`: replace an attribute that must exist.
            - `APPEND`: add value(s) to an attribute that must exist, with the same type.
            - `DELETE`: remove an attribute that must exist.
            - `CLEAR_ALL`: remove every attribute (except the platform's `conveyor_` attributes).
          enum: [CREATE_OR_REPLACE, CREATE_OR_APPEND, CREATE, REPLACE, APPEND, DELETE, CLEAR_ALL]
        attrName:
          $ref: "#/components/schemas/AttributeName"
        value:
          $ref: "#/components/schemas/Value"
    JobDefinition:
      type: object
      description: |
        A job as a client submits it: TRAC's job definition plus Conveyor's own fields. Exactly one
        of the six sections is set, the one matching `jobType` (422 for a missing section or an extra
        one). Object references may be given loosely (latest version) and are pinned when the job is
        validated or recorded; the definition in a `JobRecord` is the pinned one.
      required: [jobType]
      additionalProperties: false
      properties:
        jobType:
          $ref: "#/components/schemas/JobType"
        importModel:
          $ref: "#/components/schemas/ImportModelJob"
        importData:
          $ref: "#/components/schemas/ImportDataJob"
        exportData:
          $ref: "#/components/schemas/ExportDataJob"
        runModel:
          $ref: "#/components/schemas/RunModelJob"
        runFlow:
          $ref: "#/components/schemas/RunFlowJob"
        jobGroup:
          $ref: "#/components/schemas/JobGroupJob"
        priority:
          type: integer
          minimum: 0
          maximum: 100
          description: Higher runs first (default 50); equal priorities run in submission order.
        resources:
          $ref: "#/components/schemas/ResourceRequirements"
        retry:
          $ref: "#/components/schemas/RetryPolicy"
        dependsOn:
          $ref: "#/components/schemas/Dependencies"
        notification:
          $ref: "#/components/schemas/NotificationSettings"
        labels:
          type: object
          description: Free labels; names 1-100 printable characters, values at most 500. Filter with `label=name:value`.
          additionalProperties:
            type: string
            maxLength: 500
        owner:
          type: string
          minLength: 1
          maxLength: 200
          description: |
            Who the job belongs to: the caller (set by the gateway). Only an admin may name another
            owner (403 otherwise); naming oneself is allowed.
        idempotencyKey:
          type: string
          minLength: 1
          maxLength: 200
          description: |
            1-200 printable characters; submitting again with the same key returns the first job.
            Only the top-level job of a group may have one.
        profile:
          type: string
          description: |
            An execution profile of the deployment (`profiles.names`; RUN_MODEL and RUN_FLOW only): its
            environment variables and Python interpreter reach the models, its resource defaults fill
            what `resources` leaves out (at submission), and `resources` may not exceed its limits
            (422 naming the field). An unknown profile is refused (422). See docs/containment.md.
    ImportModelJob:
      type: object
      description: |
        `IMPORT_MODEL`: bring one version of a model's code from a git repository into internal
        storage as a MODEL object. The model declares its parameters, inputs and outputs in
        `conveyor-model.json` next to its entry point.
      required: [language, repository, version, entryPoint]
      additionalProperties: false
      properties:
        language:
          type: string
          enum: [shell, python, executable, trac]
          description: |
            `shell` (run with /bin/sh), `python` (python3), `executable` (run directly) or `trac` (a
            class deriving from `tracdap.rt.api.TracModel`, run by TRAC's runtime; its declarations
            are read from the class, see examples/README.md).
        repository:
          type: string
          description: A git URL or a local path to a repository; not empty, must not start with `-`.
        packageGroup:
          type: string
        package:
          type: string
        version:
          type: string
          description: A tag, branch or commit; not empty, must not start with `-`.
        entryPoint:
          type: string
          description: |
            The file that starts the model, relative to `path`; relative, no `..`, no control
            characters. For `trac` models, the class as `module.Class` (dotted Python names).
        path:
          type: string
          description: The folder inside the repository that holds the model (`""` or `.` for the top); relative, no `..`.
        modelAttrs:
          type: array
          description: Attributes set on the MODEL object.
          items:
            $ref: "#/components/schemas/TagUpdate"
    SelectorMap:
      type: object
      description: Name (1-100 letters, digits or `_`, not starting with a digit) to an object selector.
      additionalProperties:
        $ref: "#/components/schemas/TagSelector"
    ParameterMap:
      type: object
      description: Parameter name (1-100 letters, digits or `_`, not starting with a digit) to a value.
      additionalProperties:
        $ref: "#/components/schemas/Value"
    TagUpdateList:
      type: array
      items:
        $ref: "#/components/schemas/TagUpdate"
    RunModelJob:
      type: object
      description: |
        `RUN_MODEL`: run one registered MODEL, pinned by version, on named DATA inputs with typed
        parameters. Parameters and inputs must match what the model declares; parameter values are
        converted to the declared types and defaults filled in.
      required: [model]
      additionalProperties: false
      properties:
        model:
          $ref: "#/components/schemas/TagSelector"
        parameters:
          $ref: "#/components/schemas/ParameterMap"
        inputs:
          description: Input name (as the model declares it) to a DATA object.
          $ref: "#/components/schemas/SelectorMap"
        outputs:
          description: Output name to the object version written; filled in by the platform (must be absent or empty on submission).
          $ref: "#/components/schemas/SelectorMap"
        priorOutputs:
          description: Output name to an existing DATA object the output becomes the next version of.
          $ref: "#/components/schemas/SelectorMap"
        outputAttrs:
          description: Attributes set on every output.
          $ref: "#/components/schemas/TagUpdateList"
    RunFlowJob:
      type: object
      description: |
        `RUN_FLOW`: run the models of a FLOW in dependency order, each output feeding the inputs it is
        joined to. Each model reads its own copies of its inputs; a flow input wired straight to an
        OUTPUT_NODE is stored as a copy (the input object never changes).
      required: [flow, models]
      additionalProperties: false
      properties:
        flow:
          $ref: "#/components/schemas/TagSelector"
        models:
          description: Model node name to the MODEL that runs there (one for every MODEL_NODE).
          $ref: "#/components/schemas/SelectorMap"
        parameters:
          description: |
            Parameters, given to every model that declares them. A parameter that any of the models
            declares without a default is required. One the job leaves out gets the models' default
            when they all declare the same one; when they declare different defaults, the job is
            refused (422, `the models declare different defaults for '<name>'; give it a value`).
          $ref: "#/components/schemas/ParameterMap"
        inputs:
          description: INPUT_NODE name to a DATA object.
          $ref: "#/components/schemas/SelectorMap"
        outputs:
          description: OUTPUT_NODE name to the object version written; filled in by the platform.
          $ref: "#/components/schemas/SelectorMap"
        priorOutputs:
          $ref: "#/components/schemas/SelectorMap"
        outputAttrs:
          $ref: "#/components/schemas/TagUpdateList"
        reuse:
          type: object
          description: |
            MODEL_NODE name to its outputs (output name to a DATA object) from an earlier run of this
            flow: the node does not run again and its outputs are these. Every output of the node
            that the flow uses must be given. A chain re-run of a flow that failed part way sets it
            from the failed job's result (its `node.output` outputs), so only the nodes that did not
            finish run again.
          additionalProperties:
            $ref: "#/components/schemas/SelectorMap"
    StorageLocation:
      type: object
      description: A place in a named external storage.
      required: [path]
      additionalProperties: false
      properties:
        storage:
          type: string
          default: local
          description: The storage key; this deployment has only `local`.
        path:
          type: string
          description: Relative to the storage's root; not empty, not absolute, no `..`, no control characters.
    ImportDataJob:
      type: object
      description: |
        `IMPORT_DATA`: bring files from external storage in as DATA objects. Each entry of `imports`
        names an output and the external file it comes from.
      required: [imports]
      additionalProperties: false
      properties:
        model:
          description: Recorded as the import's declared reader (a MODEL).
          $ref: "#/components/schemas/TagSelector"
        parameters:
          $ref: "#/components/schemas/ParameterMap"
        inputs:
          $ref: "#/components/schemas/SelectorMap"
        outputs:
          description: Filled in by the platform.
          $ref: "#/components/schemas/SelectorMap"
        priorOutputs:
          description: Import name to an existing DATA object to add a version to (keys must name imports).
          $ref: "#/components/schemas/SelectorMap"
        imports:
          type: object
          minProperties: 1
          description: Output name to the external file to import (at least one).
          additionalProperties:
            $ref: "#/components/schemas/StorageLocation"
        storageAccess:
          type: array
          description: The storages the job reads from.
          items:
            type: string
        importAttrs:
          description: Attributes set on every imported DATA object.
          $ref: "#/components/schemas/TagUpdateList"
        outputAttrs:
          $ref: "#/components/schemas/TagUpdateList"
    ExportDataJob:
      type: object
      description: |
        `EXPORT_DATA`: copy DATA objects from internal storage to external storage. Every input needs
        an export location of the same name and every export must name an input.
      required: [inputs, exports]
      additionalProperties: false
      properties:
        model:
          $ref: "#/components/schemas/TagSelector"
        parameters:
          $ref: "#/components/schemas/ParameterMap"
        inputs:
          description: Input name to the DATA object to export (at least one).
          minProperties: 1
          $ref: "#/components/schemas/SelectorMap"
        outputs:
          description: Filled in by the platform.
          $ref: "#/components/schemas/SelectorMap"
        priorOutputs:
          $ref: "#/components/schemas/SelectorMap"
        exports:
          type: object
          description: Input name to where it goes.
          additionalProperties:
            $ref: "#/components/schemas/StorageLocation"
        storageAccess:
          type: array
          description: The storages the job writes to.
          items:
            type: string
        outputAttrs:
          $ref: "#/components/schemas/TagUpdateList"
    JobGroupJob:
      type: object
      description: |
        `JOB_GROUP`: child jobs that run one after another (SEQUENTIAL; a failure stops the rest) or
        all at once (PARALLEL). 1-100 jobs; groups nest at most 4 levels deep; child jobs take no
        `idempotencyKey`.
      required: [groupType, jobs]
      additionalProperties: false
      properties:
        groupType:
          type: string
          enum: [SEQUENTIAL, PARALLEL]
        jobs:
          type: array
          minItems: 1
          maxItems: 100
          items:
            $ref: "#/components/schemas/JobDefinition"
    ResourceRequirements:
      type: object
      description: |
        Resources a job asks for. The scheduler starts it only on a worker with that much free (a slot,
        and the cpus, memory and gpus the worker announces); what is left out takes the job type's
        defaults (`scheduler.types.<TYPE>.*`, else `scheduler.defaults.*`: 1 cpu, 256 MB, 0 gpus). Only
        `maxRunSeconds` is enforced while the job runs. See docs/scheduling.md.
      additionalProperties: false
      properties:
        cpus:
          type: integer
          minimum: 1
          description: At most `limits.maxCpus` (default 64), or the job type's `limits.types.<TYPE>.maxCpus`. Used to place the job and enforced as a CPU quota of its control group.
        memoryMB:
          type: integer
          minimum: 1
          description: At most `limits.maxMemoryMB` (default 262144), or the job type's `limits.types.<TYPE>.maxMemoryMB`. Used to place the job and enforced as its control group's memory limit (past it the job ends `OUT_OF_MEMORY`).
        gpus:
          type: integer
          minimum: 0
          description: At most `limits.maxGpus` (default 16), or the job type's `limits.types.<TYPE>.maxGpus`. Used to place the job, not enforced.
        maxRunSeconds:
          type: integer
          minimum: 1
          description: |
            At most `limits.maxRunSeconds` (default 604800), or the job type's `limits.types.<TYPE>.maxRunSeconds`. The job is killed and its attempt fails
            (`TIMEOUT`) when it runs longer. The scheduler also takes it as the job's run time for
            reservations and backfill.
    RetryPolicy:
      type: object
      description: |
        When a failed attempt is tried again (without a policy: never). A failure whose kind is in `retryOn`
        puts the job back in QUEUED, to start after its backoff, while the attempt number is below
        `maxAttempts`; then the job fails. The wait after attempt n is
        `min(backoffSeconds × backoffMultiplier^(n-1), maxBackoffSeconds)`, ±20 % at random. A JOB_GROUP
        takes no policy (422); give its jobs one.
      required: [maxAttempts]
      additionalProperties: false
      properties:
        maxAttempts:
          type: integer
          minimum: 1
          maximum: 20
          description: Attempts in all, the first included (1 is no retry).
        backoffSeconds:
          type: number
          minimum: 0
          maximum: 86400
          description: The wait before the second attempt (default 10).
        backoffMultiplier:
          type: number
          minimum: 1
          maximum: 10
          description: Each later wait is this many times the one before (default 2).
        maxBackoffSeconds:
          type: number
          minimum: 0
          maximum: 86400
          description: The longest wait (default 600).
        retryOn:
          type: array
          description: |
            The failure kinds that are retried (default SIGNAL, TIMEOUT, OUT_OF_MEMORY). CANCELLED and
            WORKER_LOST are refused (422): a cancelled job is never retried, and an attempt whose worker
            was lost is re-queued by metadata whatever the policy says, failing the job at the
            `metadata.maxWorkerLost`-th loss (default 3).
          items:
            $ref: "#/components/schemas/FailureKind"
        memoryFactor:
          type: number
          minimum: 1
          maximum: 8
          description: |
            After OUT_OF_MEMORY, the next attempt asks for this many times the memory (only when
            `resources.memoryMB` is given; at most `limits.maxMemoryMB`).
        runTimeFactor:
          type: number
          minimum: 1
          maximum: 8
          description: |
            After TIMEOUT, the next attempt gets this many times `maxRunSeconds` (only when
            `resources.maxRunSeconds` is given; at most `limits.maxRunSeconds`).
    FailureKind:
      type: string
      description: |
        Why an attempt did not succeed: EXIT_CODE (the model exited with a code other than 0), SIGNAL
        (killed by a signal it did not expect), TIMEOUT (ran past `maxRunSeconds`), OUT_OF_MEMORY (the
        kernel killed a process of its control group at the memory limit), DISK_LIMIT (its work folder
        outgrew the runner's disk quota), WORKER_LOST (its worker stopped renewing
        the attempt's lease; such an attempt is always re-queued, up to metadata.maxWorkerLost times, and
        cannot be named in `retryOn`), CANCELLED (the job was cancelled), ERROR (the worker could not run it).
      enum: [EXIT_CODE, SIGNAL, TIMEOUT, OUT_OF_MEMORY, DISK_LIMIT, WORKER_LOST, CANCELLED, ERROR]
    AttemptFailure:
      type: object
      description: How an attempt failed.
      required: [kind]
      additionalProperties: false
      properties:
        kind:
          $ref: "#/components/schemas/FailureKind"
        exitCode:
          type: integer
          description: With EXIT_CODE.
        signal:
          type: integer
          description: With SIGNAL.
    AttemptSummary:
      type: object
      description: An attempt that ended without succeeding and was retried or re-queued.
      required: [attempt, failure, message, endedAt]
      additionalProperties: false
      properties:
        attempt:
          type: integer
        failure:
          $ref: "#/components/schemas/AttemptFailure"
        message:
          type: string
          description: The attempt's outcome message, or why it was re-queued.
        workerId:
          type: string
        endedAt:
          $ref: "#/components/schemas/DateTime"
        logFile:
          description: Its log, when the worker reported one (not for a lost worker).
          $ref: "#/components/schemas/TagSelector"
    NotificationSettings:
      type: object
      description: |
        Who gets an e-mail when the job ends, and for which outcomes: `when` in short, or `on` in
        detail (not both); by default every end. A job without this section takes its owner's
        default (`PUT /api/v1/me/notification`), recorded with the job. One e-mail per job, at its
        end: a retried job's lists its earlier attempts, a JOB_GROUP's its stages (whose own ends
        send none).
      required: [email]
      additionalProperties: false
      properties:
        email:
          type: array
          maxItems: 50
          description: |
            1-50 addresses (none only with `when` NEVER), each one the notifier delivers to (one rule, `MailboxRule`, checked at
            submit and by the SMTP client): an ASCII `local@domain` of at most 254 characters, the
            local part a dot-atom of at most 64 (letters, digits, ``!#$%&'*+-/=?^_`{|}~``, dots only
            between them), the domain a host name (letters, digits and hyphens). International
            addresses are refused (write an international domain in its `xn--` form), as are quoted
            local parts, comments and address literals such as `a@[127.0.0.1]`; 422 naming
            `notification.email[i]`.
          items:
            type: string
            format: email
            maxLength: 254
        "on":
          type: array
          description: Terminal statuses that send the e-mail (default all three).
          items:
            $ref: "#/components/schemas/TerminalJobStatus"
        when:
          type: string
          enum: [ALWAYS, FAILURE, NEVER]
          description: "`ALWAYS` (every end), `FAILURE` (only FAILED) or `NEVER` (no e-mail, say to override a default)."
    NotificationDefault:
      type: object
      required: [principal]
      properties:
        principal:
          type: string
        settings:
          $ref: "#/components/schemas/NotificationSettings"
        updatedAt:
          type: string
          format: date-time
    CancelRequest:
      type: object
      additionalProperties: false
      properties:
        reason:
          type: string
          minLength: 1
          description: |
            1 to 500 bytes (UTF-8) of printable text (no characters below U+0020, nor U+007F to
            U+009F). Goes into the status message as `cancelled: <reason>`.
    JobStatusUpdate:
      type: object
      description: One entry of a job's status history.
      required: [status, message, at]
      additionalProperties: false
      properties:
        status:
          $ref: "#/components/schemas/JobStatus"
        message:
          type: string
        at:
          $ref: "#/components/schemas/DateTime"
    ResourceUsage:
      type: object
      description: What an attempt used, measured by the worker.
      required: [wallSeconds]
      additionalProperties: false
      properties:
        wallSeconds:
          type: number
        cpuUserSeconds:
          type: number
        cpuSystemSeconds:
          type: number
        maxResidentKB:
          type: integer
          description: |
            The peak memory of all the job's processes together (its control group's, page cache
            included), or, without a control group, of the model process and the children it waited for.
        startedAt:
          type: string
          format: date-time
          description: When the (first) model process started, on the worker's clock.
        endedAt:
          type: string
          format: date-time
          description: When the (last) model process ended, on the worker's clock.
        memoryLimitMB:
          type: integer
          description: The memory limit the attempt ran with.
        ioReadBytes:
          type: integer
          description: |
            Bytes its processes read from block devices (cgroup v2: the group's `io.stat`; otherwise
            the block operations of the model process and the children it waited for).
        ioWriteBytes:
          type: integer
          description: Bytes its processes wrote (as `ioReadBytes`).
        peakDiskBytes:
          type: integer
          description: The most disk the attempt's work folder took.
        diskLimitBytes:
          type: integer
          description: The disk quota of the work folder (`runner.diskMB`).
        samples:
          type: array
          description: |
            What the processes used while they ran, every `runner.usageSampleSeconds` (5 s); at most
            720 (a longer run keeps every other sample, and so on). A run shorter than one interval has none.
          items:
            $ref: "#/components/schemas/UsageSample"
    UsageSample:
      type: object
      required: [seconds]
      additionalProperties: false
      properties:
        seconds:
          type: number
          description: Seconds since the run started.
        memoryBytes:
          type: integer
          description: The memory of all its processes then.
        cpuSeconds:
          type: number
          description: The CPU time of all its processes so far.
        diskBytes:
          type: integer
          description: The disk its work folder took then.
    JobUsage:
      type: object
      required: [jobId, status, attempt]
      additionalProperties: false
      properties:
        jobId:
          $ref: "#/components/schemas/Uuid"
        status:
          $ref: "#/components/schemas/JobStatus"
        attempt:
          type: integer
        requested:
          description: What the job asked for (its definition's `resources`; absent when it asked for nothing).
          $ref: "#/components/schemas/ResourceRequirements"
        usage:
          description: What its last attempt used; absent until an attempt has ended.
          $ref: "#/components/schemas/ResourceUsage"
    JobResult:
      type: object
      description: The result record of a finished job.
      required: [objects, logBytes]
      additionalProperties: false
      properties:
        status:
          $ref: "#/components/schemas/JobStatus"
        message:
          type: string
        exitCode:
          type: integer
        objects:
          type: array
          description: Every object version the job registered (pinned selectors).
          items:
            $ref: "#/components/schemas/TagSelector"
        outputs:
          description: |
            Output name to the object version written for it. A RUN_FLOW that failed also lists the
            outputs of the model nodes that finished, as `node.output` (a chain re-run keeps them).
          $ref: "#/components/schemas/SelectorMap"
        logFile:
          description: |
            The complete log, kept as a FILE object. A job cancelled while an attempt was running gets
            that attempt's log here once its worker has stopped it (absent until then, and for a job
            cancelled before it ran).
          $ref: "#/components/schemas/TagSelector"
        logBytes:
          type: integer
        logTruncated:
          type: boolean
          description: The log reached the deployment's size cap and was cut (a marker line says so).
        resourceUsage:
          $ref: "#/components/schemas/ResourceUsage"
        failure:
          description: Why the last attempt did not succeed (FAILED and CANCELLED jobs).
          $ref: "#/components/schemas/AttemptFailure"
        earlierAttempts:
          type: array
          description: The attempts before the last that did not succeed (retried, or re-queued after a lost worker), oldest first.
          items:
            $ref: "#/components/schemas/AttemptSummary"
        progress:
          description: What the model said of itself last through `$CONVEYOR_PROGRESS`, when it said anything.
          $ref: "#/components/schemas/AttemptProgress"
    AttemptProgress:
      type: object
      description: |
        What a running model says of itself, one JSON line at a time in the file `$CONVEYOR_PROGRESS`
        (see examples/README.md): how far it is, small named results and events. Bounded: lines of
        at most 4 KiB, texts cut at 500 characters, at most 50 results and the latest 20 events, at
        most 200 lines per look (every `runner.usageSampleSeconds`) and 1 MiB of file in all.
      required: [results, events, ignoredLines]
      additionalProperties: false
      properties:
        fraction:
          type: number
          minimum: 0
          maximum: 1
        message:
          type: string
        results:
          type: object
          additionalProperties:
            $ref: "#/components/schemas/Value"
        events:
          type: array
          items:
            type: object
            required: [at, message]
            properties:
              at:
                type: string
                format: date-time
              message:
                type: string
        ignoredLines:
          type: integer
          description: Lines the runner could not use (not JSON, too long, out of bounds), counted.
        updatedAt:
          type: string
          format: date-time
    RerunChainPlan:
      type: object
      required: [dryRun, jobs, reused, active]
      properties:
        dryRun:
          type: boolean
        jobs:
          type: array
          description: What runs again, each job after the jobs it depends on.
          items:
            type: object
            required: [rerunOf, jobType, previousStatus]
            properties:
              rerunOf:
                $ref: "#/components/schemas/Uuid"
              jobType:
                type: string
              previousStatus:
                type: string
                description: How the job run again ended.
              jobId:
                $ref: "#/components/schemas/Uuid"
              dependsOn:
                type: array
                items:
                  $ref: "#/components/schemas/Uuid"
              keptNodes:
                type: array
                description: A RUN_FLOW that failed part way - the model nodes that finished, kept with their outputs (`runFlow.reuse` of the new job); the others run.
                items:
                  type: string
              readVersions:
                type: object
                description: A re-run downstream of a newer version - each input that read the object (its JSON path, `runModel.inputs.source`) to the version it read; the new job reads `objectVersion`.
                additionalProperties:
                  type: integer
              keptJobs:
                type: array
                description: A JOB_GROUP that did not succeed - its jobs that succeeded, kept with their results (the new group holds a SUCCEEDED job in their place, `rerunOf` the kept one, that never runs); the others run.
                items:
                  $ref: "#/components/schemas/Uuid"
        reused:
          type: array
          description: Jobs of the chain that succeeded, kept with their outputs.
          items:
            $ref: "#/components/schemas/Uuid"
        active:
          type: array
          description: Jobs of the chain that have not ended (or belong to a group), left as they are.
          items:
            $ref: "#/components/schemas/Uuid"
        objectVersion:
          type: integer
          description: A re-run downstream of a newer version - the object's latest version, which the new jobs read.
    NotificationDelivery:
      type: object
      description: |
        What became of a job's completion e-mail. PENDING: not sent yet, the last try failed
        (`lastError`) and another is due at `nextAttemptAt` (exponential backoff, at most
        `notifier.maxBackoffSeconds` apart); SENT (`sentAt`); FAILED: refused for good by the server
        (an SMTP 5xx, in `lastError`) or still not sent at `expiresAt` (`notifier.deliveryExpirySeconds`,
        3 days, after the first try).
      required: [status, attempts, updatedAt]
      additionalProperties: false
      properties:
        status:
          type: string
          enum: [PENDING, SENT, FAILED]
        attempts:
          type: integer
          minimum: 1
        lastError:
          type: string
        nextAttemptAt:
          $ref: "#/components/schemas/DateTime"
        sentAt:
          $ref: "#/components/schemas/DateTime"
        expiresAt:
          $ref: "#/components/schemas/DateTime"
        updatedAt:
          $ref: "#/components/schemas/DateTime"
    JobRecord:
      type: object
      description: |
        A job as metadata keeps it: the pinned definition, the current status and the append-only
        history of every status change (never empty; the last entry is the current status).
      required:
        [jobId, jobType, owner, priority, definition, status, statusMessage, attempt, submittedAt, updates]
      additionalProperties: false
      properties:
        jobId:
          $ref: "#/components/schemas/Uuid"
        jobType:
          $ref: "#/components/schemas/JobType"
        owner:
          type: string
        priority:
          type: integer
        definition:
          $ref: "#/components/schemas/JobDefinition"
        status:
          $ref: "#/components/schemas/JobStatus"
        statusMessage:
          type: string
        attempt:
          type: integer
          description: 0 until the first claim; increases with every dispatch that is claimed.
        workerId:
          type: string
        submittedAt:
          $ref: "#/components/schemas/DateTime"
        startedAt:
          $ref: "#/components/schemas/DateTime"
        finishedAt:
          $ref: "#/components/schemas/DateTime"
        updates:
          type: array
          description: The status history, oldest first.
          minItems: 1
          items:
            $ref: "#/components/schemas/JobStatusUpdate"
        result:
          $ref: "#/components/schemas/JobResult"
        rerunOf:
          description: The job this one re-runs.
          $ref: "#/components/schemas/Uuid"
        parentJobId:
          description: The JOB_GROUP this job is part of.
          $ref: "#/components/schemas/Uuid"
        progress:
          description: |
            While the job runs: what its model says of itself (progress, results, latest events),
            as the runner last reported it. An ended job keeps the last state in `result.progress`.
          $ref: "#/components/schemas/AttemptProgress"
        notificationDelivery:
          description: |
            Once an ended top-level job's e-mail was tried (a job with `notification` addresses that
            wants its final status): what became of it, as the notifier last reported it. Absent
            before the first try.
          $ref: "#/components/schemas/NotificationDelivery"
        childJobIds:
          type: array
          description: The jobs of a JOB_GROUP, in order (not filled in by listings).
          items:
            $ref: "#/components/schemas/Uuid"
        queue:
          description: |
            Only in `GET /api/v1/jobs/{id}` of a QUEUED job, and only when the scheduler answered
            within a second: where the job stands.
          $ref: "#/components/schemas/QueuePosition"
    Dependencies:
      type: object
      description: |
        The jobs this job waits for (it is PENDING until they have ended). With `condition`
        SUCCEEDED (the default) the job is CANCELLED, naming the dependency, when one of them FAILED
        or was CANCELLED, and that cancels the jobs that depend on it in turn; with ENDED it runs
        whatever they ended as. Each id must name an existing job (else 422 naming
        `dependsOn.jobIds[i]`); a JOB_GROUP and the jobs inside one cannot have dependencies.
      required: [jobIds]
      additionalProperties: false
      properties:
        jobIds:
          type: array
          minItems: 1
          maxItems: 100
          uniqueItems: true
          items:
            $ref: "#/components/schemas/Uuid"
        condition:
          type: string
          enum: [SUCCEEDED, ENDED]
    QueuePosition:
      type: object
      description: Where a queued job stands, from the active scheduler.
      required: [position, ahead, effectivePriority]
      properties:
        position:
          type: integer
          minimum: 1
          description: 1 for the job that starts next among those competing for the same workers.
        ahead:
          type: object
          description: The queued jobs that start before it.
          required: [total, byOwner, byType, first]
          properties:
            total:
              type: integer
            byOwner:
              type: object
              additionalProperties:
                type: integer
            byType:
              type: object
              additionalProperties:
                type: integer
            first:
              type: array
              description: The first (at most 10) of them, in the order they start.
              items:
                $ref: "#/components/schemas/Uuid"
        estimatedStartAt:
          description: |
            When it should start: the jobs ahead are placed, in order, on the workers that take it as
            the running jobs end, each taking the run time observed of the same model (else of the
            same job type, else its time limit). Absent when no worker takes the job.
          $ref: "#/components/schemas/DateTime"
        estimateBasis:
          type: string
          description: How the estimate was made, in words.
        waitingReason:
          type: string
          description: Why it cannot start on any worker that exists (it asks for more than any has, or no worker takes its type).
        notBefore:
          description: A retry's backoff ends then.
          $ref: "#/components/schemas/DateTime"
        effectivePriority:
          type: number
          description: Its priority plus what it gained by waiting (scheduler.agingPerHour).
    QueueSummary:
      type: object
      description: Queued and running jobs per job type and owner, and the live workers' capacity with what is in use.
      required: [types, owners, workers, capacity, inUse, at]
      properties:
        types:
          type: object
          additionalProperties:
            type: object
            required: [queued, running]
            properties:
              queued:
                type: integer
              running:
                type: integer
        owners:
          type: object
          additionalProperties:
            type: object
            required: [queued, running, recentCpuSeconds]
            properties:
              queued:
                type: integer
              running:
                type: integer
              recentCpuSeconds:
                type: number
                description: Recent usage (fading with scheduler.fairShareHalfLifeSeconds); the owner with less goes first among equal priorities.
        workers:
          type: integer
          description: Live workers (heard from lately, not draining).
        capacity:
          $ref: "#/components/schemas/ResourceTotals"
        inUse:
          $ref: "#/components/schemas/ResourceTotals"
        at:
          $ref: "#/components/schemas/DateTime"
    ResourceTotals:
      type: object
      description: Cpus, memory and gpus of the workers that announce them; slots of all.
      required: [cpus, memoryMB, gpus, slots]
      properties:
        cpus:
          type: integer
        memoryMB:
          type: integer
        gpus:
          type: integer
        slots:
          type: integer
    JobCounts:
      type: object
      description: How many jobs match the filters, in total and by status (statuses without jobs are left out).
      required: [total, byStatus]
      additionalProperties: false
      properties:
        total:
          type: integer
        byStatus:
          type: object
          propertyNames:
            $ref: "#/components/schemas/JobStatus"
          additionalProperties:
            type: integer
    JobPage:
      type: object
      description: One page of jobs.
      required: [jobs]
      additionalProperties: false
      properties:
        jobs:
          type: array
          items:
            $ref: "#/components/schemas/JobRecord"
        nextCursor:
          type: string
          description: Pass as `cursor` for the next page; absent on the last page.
        counts:
          $ref: "#/components/schemas/JobCounts"
    JobValidation:
      type: object
      description: A definition that would be accepted, as it would be recorded.
      required: [status, definition]
      additionalProperties: false
      properties:
        status:
          type: string
          const: VALIDATED
        definition:
          $ref: "#/components/schemas/JobDefinition"
    ObjectDefinition:
      type: object
      description: |
        The content description of an object version: exactly one section, the one matching
        `objectType` (422 for a missing or extra section).
      required: [objectType]
      additionalProperties: false
      properties:
        objectType:
          $ref: "#/components/schemas/ObjectType"
        model:
          $ref: "#/components/schemas/ModelDefinition"
        data:
          $ref: "#/components/schemas/DataDefinition"
        file:
          $ref: "#/components/schemas/FileDefinition"
        flow:
          $ref: "#/components/schemas/FlowDefinition"
        schema:
          $ref: "#/components/schemas/SchemaDefinition"
        job:
          $ref: "#/components/schemas/JobDefinition"
    ModelDefinition:
      type: object
      description: A model's code (a snapshot of a repository) and what it declares.
      required: [language, repository, version, entryPoint]
      additionalProperties: false
      properties:
        language:
          type: string
        repository:
          type: string
        packageGroup:
          type: string
        package:
          type: string
        version:
          type: string
        entryPoint:
          type: string
        path:
          type: string
        commit:
          type: string
          description: The commit the snapshot was taken from.
        environment:
          type: string
          description: |
            A python model that ships `requirements.txt`: the key of the Python environment the
            importer built for it from the package index (`py-` and a hash of the requirements and
            the interpreter; shared by every model with the same ones). The runner runs the model with
            its interpreter.
        parameters:
          type: object
          description: Parameter name to its declaration.
          additionalProperties:
            $ref: "#/components/schemas/ModelParameter"
        inputs:
          type: object
          additionalProperties:
            $ref: "#/components/schemas/ModelInputOutput"
        outputs:
          type: object
          additionalProperties:
            $ref: "#/components/schemas/ModelInputOutput"
    ModelParameter:
      type: object
      required: [paramType]
      additionalProperties: false
      properties:
        paramType:
          $ref: "#/components/schemas/BasicType"
        label:
          type: string
        defaultValue:
          description: Used when a job gives no value; a parameter without a default is required.
          $ref: "#/components/schemas/Value"
    ModelInputOutput:
      type: object
      additionalProperties: false
      properties:
        label:
          type: string
        optional:
          type: boolean
          description: An optional input may be left out.
        schema:
          description: The fields the data must have (declared by `trac` models; TRAC's runtime checks the data against it).
          $ref: "#/components/schemas/SchemaDefinition"
    DataDefinition:
      type: object
      description: A data set; its schema is a SCHEMA object (`schema`, pinned on creation) or inline (`schemaDefinition`).
      additionalProperties: false
      properties:
        schema:
          $ref: "#/components/schemas/TagSelector"
        schemaDefinition:
          $ref: "#/components/schemas/SchemaDefinition"
        format:
          type: string
          description: A media type such as `text/csv`.
        sizeBytes:
          type: integer
        rowCount:
          type: integer
          description: The number of rows, where the producer counted them (the outputs of `trac` models).
    FileDefinition:
      type: object
      description: A file kept as it was uploaded (or produced, like a job's complete log).
      required: [name, mimeType, sizeBytes]
      additionalProperties: false
      properties:
        name:
          type: string
          minLength: 1
          maxLength: 255
          description: 1-255 printable characters without `/`; not `.` or `..`.
        mimeType:
          type: string
          description: A media type such as `text/plain` (type/subtype, no spaces).
        sizeBytes:
          type: integer
          minimum: 0
        sha256:
          type: string
          description: Hex SHA-256 of the content.
    FlowDefinition:
      type: object
      description: |
        A graph of nodes joined by edges from outputs to inputs (TRAC's `FlowDefinition`). INPUT_NODEs
        bring data sets in, OUTPUT_NODEs take results out, MODEL_NODEs name their input and output
        sockets. Valid when there is at least one node, every edge joins existing sockets, every model
        input and every OUTPUT_NODE is fed by exactly one edge, and the graph has no cycle.
      required: [nodes, edges]
      additionalProperties: false
      properties:
        nodes:
          type: object
          description: Node name (1-100 letters, digits or `_`, not starting with a digit) to node.
          minProperties: 1
          additionalProperties:
            $ref: "#/components/schemas/FlowNode"
        edges:
          type: array
          items:
            $ref: "#/components/schemas/FlowEdge"
    FlowNode:
      type: object
      required: [nodeType]
      additionalProperties: false
      properties:
        nodeType:
          type: string
          enum: [INPUT_NODE, OUTPUT_NODE, MODEL_NODE, PARAMETER_NODE]
        inputs:
          type: array
          description: Input socket names (MODEL_NODE only).
          items:
            type: string
        outputs:
          type: array
          description: Output socket names (MODEL_NODE only).
          items:
            type: string
        label:
          type: string
    FlowEdge:
      type: object
      description: |
        From a source (an INPUT_NODE or PARAMETER_NODE itself, or an output socket of a MODEL_NODE) to
        a target (an input socket of a MODEL_NODE, or an OUTPUT_NODE itself).
      required: [source, target]
      additionalProperties: false
      properties:
        source:
          $ref: "#/components/schemas/FlowSocket"
        target:
          $ref: "#/components/schemas/FlowSocket"
    FlowSocket:
      type: object
      description: A node, and for a MODEL_NODE one of its sockets (`socket` absent or empty means the node itself).
      required: [node]
      additionalProperties: false
      properties:
        node:
          type: string
        socket:
          type: string
    SchemaDefinition:
      type: object
      description: The fields of a tabular data set (at least one; names unique, case-insensitively).
      required: [fields]
      additionalProperties: false
      properties:
        fields:
          type: array
          minItems: 1
          items:
            $ref: "#/components/schemas/SchemaField"
    SchemaField:
      type: object
      required: [fieldName, fieldType]
      additionalProperties: false
      properties:
        fieldName:
          $ref: "#/components/schemas/AttributeName"
        fieldType:
          description: A scalar type (not ARRAY or MAP).
          $ref: "#/components/schemas/BasicType"
        label:
          type: string
        businessKey:
          type: boolean
        notNull:
          type: boolean
    ObjectRecord:
      type: object
      description: One object version with one tag version; immutable once written.
      required: [objectType, objectId, objectVersion, tagVersion, definition, attributes, createdAt, tagCreatedAt]
      additionalProperties: false
      properties:
        objectType:
          $ref: "#/components/schemas/ObjectType"
        objectId:
          $ref: "#/components/schemas/Uuid"
        objectVersion:
          type: integer
          minimum: 1
          maximum: 2147483647
        tagVersion:
          type: integer
          minimum: 1
          maximum: 2147483647
        definition:
          $ref: "#/components/schemas/ObjectDefinition"
        attributes:
          type: object
          description: Attributes (TRAC's tags) of this tag version, in canonical `Value` form.
          additionalProperties:
            $ref: "#/components/schemas/Value"
        storagePath:
          type: string
          description: Where the content lives, relative to the internal storage root.
        createdAt:
          description: When this object version was created.
          $ref: "#/components/schemas/DateTime"
        tagCreatedAt:
          description: When this tag version was created.
          $ref: "#/components/schemas/DateTime"
        jobId:
          description: The job that produced this version (for a JOB object, the job itself).
          $ref: "#/components/schemas/Uuid"
        owner:
          type: string
          description: |
            Who owns the object (every version): who created it through the API, or the owner of the
            job that wrote it. Absent for objects from before owners (readable by every user).
        sharedWith:
          type: array
          description: The teams whose members may read the object (`*`, every user); absent when not shared.
          items:
            type: string
    ObjectPage:
      type: object
      description: One page of objects.
      required: [objects]
      additionalProperties: false
      properties:
        objects:
          type: array
          items:
            $ref: "#/components/schemas/ObjectRecord"
        nextCursor:
          type: string
          description: Pass as `cursor` for the next page; absent on the last page.
    CreateObjectRequest:
      type: object
      description: The body of `POST /api/v1/objects` and `POST /api/v1/objects/{id}/versions`.
      required: [definition]
      additionalProperties: false
      properties:
        definition:
          $ref: "#/components/schemas/ObjectDefinition"
        attrs:
          description: Attributes of tag version 1, applied in order to an empty tag.
          $ref: "#/components/schemas/TagUpdateList"
        sharedWith:
          $ref: "#/components/schemas/TeamList"
    TeamList:
      type: array
      description: |
        Teams whose members may read an object (`*`: every user), at most 50; a user may name only
        teams they belong to (admins any). A new version keeps the object's sharing: 422 when given
        with one.
      maxItems: 50
      items:
        type: string
        minLength: 1
        maxLength: 200
    ObjectSharingRequest:
      type: object
      description: The body of `PUT /api/v1/objects/{id}/sharing`.
      required: [sharedWith]
      additionalProperties: false
      properties:
        sharedWith:
          $ref: "#/components/schemas/TeamList"
    ObjectSharing:
      type: object
      description: Who owns an object and the teams it is shared with.
      required: [objectId, sharedWith]
      additionalProperties: false
      properties:
        objectId:
          $ref: "#/components/schemas/Uuid"
        owner:
          type: string
          description: Absent for an object from before owners.
        sharedWith:
          type: array
          items:
            type: string
    UpdateTagRequest:
      type: object
      required: [updates]
      additionalProperties: false
      properties:
        objectVersion:
          type: integer
          minimum: 1
          maximum: 2147483647
          description: The object version to tag (default the latest; 422 outside 1 to 2147483647).
        tagVersion:
          type: integer
          minimum: 1
          maximum: 2147483647
          description: |
            When given, must be the latest tag version of that object version (else 409; of concurrent
            updates naming the same `tagVersion`, one wins and the others get 409). 422 outside 1 to
            2147483647.
        updates:
          type: array
          minItems: 1
          items:
            $ref: "#/components/schemas/TagUpdate"
    SearchRequest:
      type: object
      description: The body of `POST /api/v1/search`.
      additionalProperties: false
      properties:
        objectType:
          $ref: "#/components/schemas/ObjectType"
        search:
          $ref: "#/components/schemas/SearchExpression"
        asOf:
          description: Search the tags current at this time (default now).
          $ref: "#/components/schemas/DateTime"
        limit:
          type: integer
          minimum: 1
          maximum: 500
          default: 50
        cursor:
          type: string
          description: The `nextCursor` of the previous page (opaque).
    SearchExpression:
      description: |
        Terms combined with AND, OR and NOT; each node has exactly one key: `{"term": {...}}`,
        `{"and": [...]}`, `{"or": [...]}` or `{"not": {...}}`. `and` and `or` list at least one
        expression. At most 50 terms per search and 8 levels of nesting.
      oneOf:
        - type: object
          required: [term]
          additionalProperties: false
          properties:
            term:
              $ref: "#/components/schemas/SearchTerm"
        - type: object
          required: [and]
          additionalProperties: false
          properties:
            and:
              type: array
              minItems: 1
              items:
                $ref: "#/components/schemas/SearchExpression"
        - type: object
          required: [or]
          additionalProperties: false
          properties:
            or:
              type: array
              minItems: 1
              items:
                $ref: "#/components/schemas/SearchExpression"
        - type: object
          required: [not]
          additionalProperties: false
          properties:
            not:
              $ref: "#/components/schemas/SearchExpression"
    SearchTerm:
      type: object
      description: |
        One condition on one attribute. A multi-valued attribute matches when any of its values does;
        NE matches objects that have the attribute with no value equal to the one given. Values
        compare within their family: text (STRING), number (INTEGER, FLOAT, DECIMAL), boolean, time
        (DATE, DATETIME).
      required: [attrName, operator]
      additionalProperties: false
      properties:
        attrName:
          $ref: "#/components/schemas/AttributeName"
        operator:
          type: string
          description: |
            - `EQ`, `NE`, `LT`, `LE`, `GT`, `GE`: compare with a scalar `value` (BOOLEAN only with EQ, NE).
            - `IN`: equal to one of `value`, a non-empty ARRAY of scalars of one family.
            - `EXISTS`: the attribute is set; takes no `value`.
          enum: [EQ, NE, LT, LE, GT, GE, IN, EXISTS]
        value:
          $ref: "#/components/schemas/Value"
    FieldProblem:
      type: object
      description: One thing wrong with a request.
      required: [field, reason]
      additionalProperties: false
      properties:
        field:
          type: string
          description: |
            Where: a JSON path such as `runModel.model.objectId`, `notification.email[0]` or
            `jobGroup.jobs[1].priority` (`$` is the whole body), or the name of a query parameter,
            path parameter or header.
        reason:
          type: string
          description: Why, in words.
    Principal:
      type: object
      required: [name, role, teams, method]
      properties:
        name:
          type: string
          description: The owner of what the caller submits.
        role:
          type: string
          enum: [user, operator, admin]
        teams:
          type: array
          items:
            type: string
        method:
          type: string
          enum: [token, jwt]
        tokenId:
          type: string
          format: uuid
        requestsPerSecond:
          type: integer
    JobStatusChange:
      type: object
      required: [eventId, jobId, jobType, owner, seq, status, message, at]
      properties:
        eventId:
          type: string
          description: "`<microseconds since 1970>_<job id>_<position>`: unique per change, in reading order."
        jobId:
          type: string
          format: uuid
        jobType:
          $ref: "#/components/schemas/JobType"
        owner:
          type: string
        seq:
          type: integer
          description: The change's position in the job's history (`updates`), from 1.
        status:
          $ref: "#/components/schemas/JobStatus"
        message:
          type: string
        at:
          type: string
          format: date-time
    JobQueueEvent:
      type: object
      description: A followed queued job's place, sent when it changes (see `QueuePosition`).
      required: [jobId, position, ahead]
      properties:
        jobId:
          type: string
          format: uuid
        position:
          type: integer
          minimum: 1
          description: 1 for the job that starts next among those competing for the same workers.
        ahead:
          type: integer
          description: How many queued jobs start before it.
        estimatedStartAt:
          type: string
          format: date-time
        waitingReason:
          type: string
        notBefore:
          type: string
          format: date-time
    JobLogEvent:
      type: object
      description: A followed running job's log size, sent when it grows or a new attempt begins.
      required: [jobId, attempt, bytes]
      properties:
        jobId:
          type: string
          format: uuid
        attempt:
          type: integer
        bytes:
          type: integer
          description: The bytes of the attempt's log stored so far (read them with `offset`).
    AuditEntry:
      type: object
      required: [at, principal, role, action, method, path, status, requestId]
      properties:
        id:
          type: integer
        at:
          type: string
          format: date-time
        principal:
          type: string
        role:
          type: string
          enum: [user, operator, admin]
        action:
          type: string
        method:
          type: string
        path:
          type: string
        target:
          type: string
        status:
          type: integer
        remoteAddress:
          type: string
        requestId:
          type: string
    AuditPage:
      type: object
      required: [entries]
      properties:
        entries:
          type: array
          items:
            $ref: "#/components/schemas/AuditEntry"
        nextCursor:
          type: string
    TokenRequest:
      type: object
      additionalProperties: false
      required: [principal]
      properties:
        principal:
          type: string
          minLength: 1
          maxLength: 200
          description: Who the token speaks for (1-200 printable characters).
        role:
          type: string
          enum: [user, operator, admin]
          description: Default `user`.
        teams:
          type: array
          maxItems: 100
          items:
            type: string
            minLength: 1
            maxLength: 200
        label:
          type: string
          minLength: 1
          maxLength: 200
          description: What the token is for (default `token for <principal>`).
        expiresInDays:
          type: integer
          minimum: 1
          maximum: 3650
          description: Default 90.
        requestsPerSecond:
          type: integer
          minimum: 0
          maximum: 100000
          description: The token's own rate (0 no limit; absent the gateway's default).
    APIToken:
      type: object
      required: [tokenId, principal, role, teams, label, createdAt, createdBy, expiresAt]
      properties:
        tokenId:
          type: string
          format: uuid
        principal:
          type: string
        role:
          type: string
          enum: [user, operator, admin]
        teams:
          type: array
          items:
            type: string
        label:
          type: string
        createdAt:
          type: string
          format: date-time
        createdBy:
          type: string
        expiresAt:
          type: string
          format: date-time
        revokedAt:
          type: string
          format: date-time
        requestsPerSecond:
          type: integer
    IssuedToken:
      type: object
      required: [token, record]
      properties:
        token:
          type: string
          description: The secret, shown this once (`cvy_` and 43 characters).
        record:
          $ref: "#/components/schemas/APIToken"
    Problem:
      type: object
      description: RFC 9457 problem details; the body of every 4xx/5xx answer (content type `application/problem+json`).
      required: [type, title, status, detail]
      additionalProperties: false
      properties:
        type:
          type: string
          const: about:blank
        title:
          type: string
          description: The HTTP reason phrase, e.g. `Unprocessable Content`.
        status:
          type: integer
          description: The HTTP status code.
        detail:
          type: string
          description: What went wrong, for people.
        errors:
          type: array
          description: Every problem found, each naming its field (absent when there is no field to name).
          items:
            $ref: "#/components/schemas/FieldProblem"
    Health:
      type: object
      required: [status, service, checks]
      additionalProperties: false
      properties:
        status:
          type: string
          enum: [ok, unavailable]
        service:
          type: string
          const: api-gateway
        checks:
          type: object
          description: Check name (`amqp`) to whether it passes.
          additionalProperties:
            type: boolean
"""#
}
