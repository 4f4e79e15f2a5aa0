// Generated from docs/openapi.yaml by `make openapi` (deploy/local/gen-openapi.sh). Do not edit.

/// The OpenAPI document the gateway serves.
enum OpenAPIDocument {
    static let yaml = #"""
openapi: 3.1.0
info:
  title: Conveyor HTTP API
  version: "1"
  description: |
    The public API of Conveyor's api-gateway (Services/api-gateway). The gateway validates requests
    and forwards them to the metadata service over AMQP RPC.

    Conventions:
    - UUIDs are strings. Responses write them in upper case; requests may use any case.
    - Timestamps are ISO 8601 in UTC with fractional seconds (milliseconds), e.g. `2026-11-21T10:09:31.453Z`.
    - Optional fields with no value are left out of responses; they are never `null`.
    - Every 4xx/5xx answer is an RFC 9457 problem (`application/problem+json`, schema `Problem`).
    - There is no authentication yet; `owner` is whatever the client sends.
servers:
  - url: http://127.0.0.1:8080
    description: local stack (gateway.host / gateway.port)
tags:
  - name: jobs
  - name: objects
  - name: health
paths:
  /api/v1/jobs:
    post:
      tags: [jobs]
      operationId: submitJob
      summary: Submit a job
      description: |
        Validates the definition and records it. The answer (201) comes only after metadata committed the
        job, its status history and its QUEUED event in one transaction. Object references without
        `objectVersion` are pinned to the latest version. A repeated `idempotencyKey` (or `Idempotency-Key`
        header, used when the body has none) returns the first job.
      parameters:
        - name: Idempotency-Key
          in: header
          required: false
          description: Used as `idempotencyKey` when the body does not set one (1-200 printable characters).
          schema:
            type: string
      requestBody:
        required: true
        description: At most `gateway.maxBodyBytes` (default 1048576) bytes.
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
                  owner: demo
                  priority: 60
                  notification:
                    email: [demo@example.com]
              exportData:
                value:
                  jobType: EXPORT_DATA
                  exportData:
                    data:
                      objectId: 7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
                    storage: local
                    path: demo/summary.json
                  owner: demo
      responses:
        "201":
          description: The job was recorded (status QUEUED).
          headers:
            Location:
              description: "`/api/v1/jobs/{jobId}` (lower-case id)"
              schema:
                type: string
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/JobRecord"
        "400":
          $ref: "#/components/responses/BadRequest"
        "413":
          $ref: "#/components/responses/ContentTooLarge"
        "422":
          $ref: "#/components/responses/Unprocessable"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
    get:
      tags: [jobs]
      operationId: listJobs
      summary: List jobs, newest first
      parameters:
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
          description: The `nextCursor` of the previous page (opaque).
          schema:
            type: string
        - name: status
          in: query
          required: false
          description: Filter by status (case-insensitive).
          schema:
            $ref: "#/components/schemas/JobStatus"
        - name: jobType
          in: query
          required: false
          description: Filter by job type (case-insensitive).
          schema:
            $ref: "#/components/schemas/JobType"
        - name: owner
          in: query
          required: false
          schema:
            type: string
      responses:
        "200":
          description: One page of jobs.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/JobPage"
        "400":
          $ref: "#/components/responses/BadRequest"
        "422":
          $ref: "#/components/responses/Unprocessable"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
  /api/v1/jobs/{id}:
    get:
      tags: [jobs]
      operationId: getJob
      summary: A job with its full status history
      parameters:
        - $ref: "#/components/parameters/Id"
      responses:
        "200":
          description: The job.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/JobRecord"
        "400":
          $ref: "#/components/responses/BadRequest"
        "404":
          $ref: "#/components/responses/NotFound"
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
      summary: The log of the job's current attempt, from a byte offset
      description: |
        Returns the bytes the job's current attempt has logged so far, from `offset`. The answer stops
        at the first gap (a chunk not yet arrived). Poll with `offset` = the previous
        `Conveyor-Log-Next-Offset` until `Conveyor-Log-Complete` is `true`.
      parameters:
        - $ref: "#/components/parameters/Id"
        - name: offset
          in: query
          required: false
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
            minimum: 0
      responses:
        "200":
          description: The log bytes (stdout and stderr merged, plus the worker's own lines).
          headers:
            Conveyor-Log-Offset:
              description: The offset of the first byte returned.
              schema:
                type: integer
            Conveyor-Log-Next-Offset:
              description: The offset to ask for next (offset + bytes returned).
              schema:
                type: integer
            Conveyor-Log-Complete:
              description: "`true` when the job is terminal (no more log will arrive)."
              schema:
                type: string
                enum: ["true", "false"]
          content:
            text/plain:
              schema:
                type: string
        "400":
          $ref: "#/components/responses/BadRequest"
        "404":
          $ref: "#/components/responses/NotFound"
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
      summary: Cancel a job that has not ended yet
      description: |
        Ends the job as CANCELLED in one transaction: metadata locks the job's row, checks that the job
        is not terminal, sets `finishedAt`, appends the CANCELLED update (status message
        `cancelled: <reason>`, or `cancelled on request` without a reason) and publishes
        `job.cancelled.<type>`. A queued job never runs. For a job that a worker was given, the scheduler
        sends that worker `work.cancel`; the worker cancels the attempt, which kills its child process
        (the model, or git) with its whole process group. The attempt's own finished report then changes
        nothing. The notifier sends the CANCELLED e-mail as for any terminal
        status (subject to `notification.on`).
      parameters:
        - $ref: "#/components/parameters/Id"
      requestBody:
        required: false
        description: |
          Optional; an empty body cancels without a reason. At most 16 KiB (larger bodies get 413).
        content:
          application/json:
            schema:
              type: object
              properties:
                reason:
                  type: string
                  minLength: 1
                  maxLength: 500
                  description: 1 to 500 bytes (UTF-8) of printable text, no control characters.
                  description: |
                    Goes into the status message as `cancelled: <reason>`. At most 500 characters, no
                    control characters below U+0020.
            examples:
              withReason:
                value:
                  reason: not needed
      responses:
        "200":
          description: The job, now CANCELLED, with its status history.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/JobRecord"
        "400":
          description: |
            The id is not a UUID (field `id`), the body is not a JSON object of the expected shape
            (field `$`), or `reason` is too long or has control characters (field `reason`).
          content:
            application/problem+json:
              schema:
                $ref: "#/components/schemas/Problem"
        "404":
          $ref: "#/components/responses/NotFound"
        "409":
          $ref: "#/components/responses/Conflict"
        "413":
          $ref: "#/components/responses/ContentTooLarge"
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
      summary: One version of a metadata object (latest by default)
      parameters:
        - $ref: "#/components/parameters/Id"
        - name: version
          in: query
          required: false
          schema:
            type: integer
            minimum: 0
      responses:
        "200":
          description: The object version.
          content:
            application/json:
              schema:
                $ref: "#/components/schemas/ObjectRecord"
        "400":
          $ref: "#/components/responses/BadRequest"
        "404":
          $ref: "#/components/responses/NotFound"
        "500":
          $ref: "#/components/responses/InternalError"
        "503":
          $ref: "#/components/responses/Unavailable"
        "504":
          $ref: "#/components/responses/Timeout"
  /healthz:
    get:
      tags: [health]
      operationId: health
      summary: Gateway health (its AMQP connection to metadata)
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
  parameters:
    Id:
      name: id
      in: path
      required: true
      schema:
        type: string
        format: uuid
  responses:
    BadRequest:
      description: Malformed JSON (field `$`), an id that is not a UUID, or an invalid query parameter.
      content:
        application/problem+json:
          schema:
            $ref: "#/components/schemas/Problem"
    NotFound:
      description: No such job or object.
      content:
        application/problem+json:
          schema:
            $ref: "#/components/schemas/Problem"
    Conflict:
      description: The job already ended (SUCCEEDED, FAILED or CANCELLED); nothing changed.
      content:
        application/problem+json:
          schema:
            $ref: "#/components/schemas/Problem"
    ContentTooLarge:
      description: The body is larger than `gateway.maxBodyBytes` (16 KiB for a cancel).
      content:
        application/problem+json:
          schema:
            $ref: "#/components/schemas/Problem"
    Unprocessable:
      description: The job definition (or a cursor) is invalid; `errors` names every field.
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
      description: Metadata did not answer within `amqp.rpcTimeoutSeconds`; retry (with the same Idempotency-Key for submits).
      content:
        application/problem+json:
          schema:
            $ref: "#/components/schemas/Problem"
  schemas:
    JobType:
      type: string
      description: TRAC's job types. This release executes IMPORT_MODEL, RUN_MODEL and EXPORT_DATA.
      enum: [IMPORT_MODEL, IMPORT_DATA, EXPORT_DATA, RUN_MODEL, RUN_FLOW, JOB_GROUP]
    JobStatus:
      type: string
      description: TRAC's job statuses; SUCCEEDED, FAILED and CANCELLED are terminal.
      enum: [PREPARING, VALIDATED, PENDING, QUEUED, SUBMITTED, RUNNING, FINISHING, SUCCEEDED, FAILED, CANCELLED]
    ObjectType:
      type: string
      enum: [MODEL, DATA, FILE, FLOW, SCHEMA, JOB]
    JSONValue:
      description: Any JSON value.
    JSONObject:
      type: object
      additionalProperties:
        $ref: "#/components/schemas/JSONValue"
    ObjectSelector:
      type: object
      description: One version of an object; the latest when `objectVersion` is not given.
      required: [objectId]
      properties:
        objectType:
          $ref: "#/components/schemas/ObjectType"
        objectId:
          type: string
          format: uuid
        objectVersion:
          type: integer
          minimum: 1
    ImportModelJob:
      type: object
      required: [repository, entryPoint, language, version]
      properties:
        repository:
          type: string
          description: A git URL or a local path to a repository (must not start with '-').
        path:
          type: string
          description: The folder inside the repository that holds the model ("" or "." for the top); relative, no "..".
        entryPoint:
          type: string
          description: The file that starts the model, relative to `path`.
        language:
          type: string
          enum: [shell, python, executable]
        version:
          type: string
          description: A tag, branch or commit (must not start with '-').
        modelAttrs:
          $ref: "#/components/schemas/JSONObject"
    RunModelJob:
      type: object
      required: [model]
      properties:
        model:
          $ref: "#/components/schemas/ObjectSelector"
        parameters:
          $ref: "#/components/schemas/JSONObject"
        outputAttrs:
          $ref: "#/components/schemas/JSONObject"
    ExportDataJob:
      type: object
      required: [data, path]
      properties:
        data:
          $ref: "#/components/schemas/ObjectSelector"
        storage:
          type: string
          description: The named external storage; only `local` exists (default).
          enum: [local]
        path:
          type: string
          description: Destination relative to the storage root; no "..", not absolute.
    ResourceRequirements:
      type: object
      properties:
        cpus:
          type: integer
          minimum: 1
          maximum: 256
          description: Validated, not used by the scheduler yet.
        memoryMB:
          type: integer
          minimum: 1
          maximum: 1048576
          description: Validated, not used by the scheduler yet.
        maxRunSeconds:
          type: integer
          minimum: 1
          maximum: 604800
          description: The job is killed and FAILED when it runs longer.
    NotificationSettings:
      type: object
      required: [email]
      properties:
        email:
          type: array
          minItems: 1
          items:
            type: string
        "on":
          type: array
          description: Terminal statuses that send the e-mail (default all three).
          items:
            type: string
            enum: [SUCCEEDED, FAILED, CANCELLED]
    JobDefinition:
      type: object
      description: Exactly one of importModel, runModel, exportData is set, the one matching jobType.
      required: [jobType]
      properties:
        jobType:
          $ref: "#/components/schemas/JobType"
        importModel:
          $ref: "#/components/schemas/ImportModelJob"
        runModel:
          $ref: "#/components/schemas/RunModelJob"
        exportData:
          $ref: "#/components/schemas/ExportDataJob"
        priority:
          type: integer
          minimum: 0
          maximum: 100
          description: Higher runs first (default 50); equal priorities run in submission order.
        resources:
          $ref: "#/components/schemas/ResourceRequirements"
        notification:
          $ref: "#/components/schemas/NotificationSettings"
        labels:
          type: object
          additionalProperties:
            type: string
        owner:
          type: string
          description: 1-200 printable characters (default "anonymous").
        idempotencyKey:
          type: string
          description: 1-200 printable characters; submitting again with the same key returns the first job.
    JobStatusUpdate:
      type: object
      required: [status, message, at]
      properties:
        status:
          $ref: "#/components/schemas/JobStatus"
        message:
          type: string
        at:
          type: string
          format: date-time
    JobResult:
      type: object
      required: [objects, logBytes]
      properties:
        exitCode:
          type: integer
        objects:
          type: array
          description: Objects registered by the job (a MODEL for imports, DATA for run outputs).
          items:
            $ref: "#/components/schemas/ObjectSelector"
        logBytes:
          type: integer
    JobRecord:
      type: object
      required:
        [jobId, jobType, owner, priority, definition, status, statusMessage, attempt, submittedAt, updates]
      properties:
        jobId:
          type: string
          format: uuid
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
          type: string
          format: date-time
        startedAt:
          type: string
          format: date-time
        finishedAt:
          type: string
          format: date-time
        updates:
          type: array
          description: The append-only status history, oldest first; the last entry is the current status.
          items:
            $ref: "#/components/schemas/JobStatusUpdate"
        result:
          $ref: "#/components/schemas/JobResult"
    JobPage:
      type: object
      required: [jobs]
      properties:
        jobs:
          type: array
          items:
            $ref: "#/components/schemas/JobRecord"
        nextCursor:
          type: string
          description: Pass as `cursor` for the next (older) page; absent on the last page.
    ObjectRecord:
      type: object
      required: [objectType, objectId, objectVersion, attributes, createdAt]
      properties:
        objectType:
          $ref: "#/components/schemas/ObjectType"
        objectId:
          type: string
          format: uuid
        objectVersion:
          type: integer
        attributes:
          $ref: "#/components/schemas/JSONObject"
        storagePath:
          type: string
          description: Relative to the internal storage root.
        createdAt:
          type: string
          format: date-time
        jobId:
          type: string
          format: uuid
          description: The job that produced this version.
    FieldProblem:
      type: object
      required: [field, reason]
      properties:
        field:
          type: string
          description: A JSON path such as `runModel.model.objectId` or `notification.email[0]`; `$` is the whole body.
        reason:
          type: string
    Problem:
      type: object
      description: RFC 9457 problem details.
      required: [type, title, status, detail]
      properties:
        type:
          type: string
          const: about:blank
        title:
          type: string
          description: The HTTP reason phrase.
        status:
          type: integer
        detail:
          type: string
        errors:
          type: array
          items:
            $ref: "#/components/schemas/FieldProblem"
    Health:
      type: object
      required: [status, service, checks]
      properties:
        status:
          type: string
          enum: [ok, unavailable]
        service:
          type: string
        checks:
          type: object
          additionalProperties:
            type: boolean
"""#
}
