// conveyor-bench: throughput and latency of trivial RUN_MODEL jobs through the public HTTP API.
//
// 1. Imports examples/true-model (its entry point is /bin/true: one exec, no shell, like the Celery
//    peer's `true`).
// 2. W1: submits N jobs as fast as the API takes them (bounded concurrency) and waits until all have
//    SUCCEEDED, learning each completion from the job events (push, no polling); prints jobs/s,
//    submit-to-SUCCEEDED latency p50/p95/p99 and the CPU time of every process of the system per job
//    (the seven services with the models they ran, RabbitMQ, PostgreSQL, this client: /proc/<pid>/stat
//    before and after).
// 3. W2: runs M jobs one after another on the idle system, prints the same latencies and where the
//    time goes, stage by stage, from the client's clock and the job's own record.
// 4. Reads: `wrk` with 32 connections against GET /api/v1/jobs/{id} of a finished job for S seconds
//    (see ReadBench.swift).
// 5. Scale (only with --scale N): submit latency and job-list paging before and after N finished
//    jobs are added to the database (see ScaleBench.swift; `make bench-scale` runs it on a fresh database).
// 6. Search: seeds 100,000 DATA objects with attributes (once) and times attribute searches
//    through the HTTP API (see SearchBench.swift).
// Last, one line `RESULT key=value ...` with the figures ../shared/peers/compare.sh carries over.
//
// Usage: conveyor-bench [--jobs N] [--sequential M] [--concurrency C] [--reads S] [--search-objects K] [--scale N] [--scheduler-jobs N --scheduler-workers W] [--failover N] (0 skips a part)
// Environment: CONVEYOR_GATEWAY_URL (http://127.0.0.1:8080), CONVEYOR_TEST_AMQP_URL or AMQP_URL,
// CONVEYOR_TEST_POSTGRES_URL or POSTGRES_URL (for seeding the search benchmark), CONVEYOR_STATE
// (for the services' pid files, default .conveyor).

import AMQPClient
import ConveyorModels
import Foundation
import Logging
import Synchronization
import TestSupport


nonisolated(unsafe) var schedulerFigures: [(String, String)] = []

struct Options {
    var jobs = 2000
    var sequential = 200
    var concurrency = 64
    var searchObjects = 100_000
    var readSeconds = 30
    var scaleJobs = 0
    var schedulerJobs = 0
    var schedulerWorkers = 1000
    var failoverJobs = 0

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            guard let value = iterator.next().flatMap(Int.init), value >= 0 else {
                fatalError("usage: conveyor-bench [--jobs N] [--sequential M] [--concurrency C] [--reads S] [--search-objects K] [--scale N] [--scheduler-jobs N] [--scheduler-workers W] [--failover N] (bad value for \(flag))")
            }
            switch flag {
            case "--jobs": jobs = value
            case "--sequential": sequential = value
            case "--concurrency": concurrency = max(1, value)
            case "--search-objects": searchObjects = value
            case "--reads": readSeconds = value
            case "--scale": scaleJobs = value
            case "--scheduler-jobs": schedulerJobs = value
            case "--scheduler-workers": schedulerWorkers = max(1, value)
            case "--failover": failoverJobs = value
            default: fatalError("unknown option \(flag)")
            }
        }
    }
}

let environment = ProcessInfo.processInfo.environment
// The scheduler's core at scale needs no services: it runs alone and first.
let schedulerOptions = Options(CommandLine.arguments)
if schedulerOptions.schedulerJobs > 0 {
    let figures = SchedulerBench.run(jobs: schedulerOptions.schedulerJobs, workers: schedulerOptions.schedulerWorkers)
    if schedulerOptions.jobs == 0, schedulerOptions.sequential == 0, schedulerOptions.readSeconds == 0, schedulerOptions.searchObjects == 0,
        schedulerOptions.scaleJobs == 0, schedulerOptions.failoverJobs == 0
    {
        print("RESULT config=conveyor " + figures.map { "\($0.0)=\($0.1)" }.joined(separator: " "))
        exit(0)
    }
    schedulerFigures = figures
}
let gateway = environment["CONVEYOR_GATEWAY_URL"] ?? "http://127.0.0.1:8080"
let amqpURL = environment["CONVEYOR_TEST_AMQP_URL"] ?? environment["AMQP_URL"] ?? "amqp://guest:guest@127.0.0.1:5672/"
let options = Options(CommandLine.arguments)

let http = GatewayClient(base: gateway)

/// Submits a job; returns its id once the gateway answered 201.
func post(_ json: String) async throws -> String {
    let (status, data) = try await http.send(.POST, "/api/v1/jobs", json: Data(json.utf8))
    guard status == 201 else {
        throw JobFailure("submit failed: \(String(decoding: data, as: UTF8.self))")
    }
    // Only the id is needed: the first "jobId" of the record.
    guard let range = data.range(of: Data(#""jobId":""#.utf8)), data.count >= range.upperBound + 36 else {
        throw JobFailure("no jobId in the answer: \(String(decoding: data, as: UTF8.self))")
    }
    return String(decoding: data[range.upperBound..<range.upperBound + 36], as: UTF8.self)
}

func getJob(_ id: String) async throws -> JobRecord {
    let (_, data) = try await http.send(.GET, "/api/v1/jobs/\(id)")
    return try ConveyorJSON.decode(JobRecord.self, from: data)
}

struct JobFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Completion times of jobs, learned from `job.<terminal>.run_model` events.
final class Completions: Sendable {
    private let state = Mutex<(done: [UUID: (ContinuousClock.Instant, JobStatus)], waiters: [UUID: CheckedContinuation<Void, Never>])>(([:], [:]))

    func record(_ id: UUID, _ status: JobStatus) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.done[id] = (ContinuousClock.now, status)
            return state.waiters.removeValue(forKey: id)
        }
        waiter?.resume()
    }

    func wait(for id: UUID) async {
        await withCheckedContinuation { continuation in
            let done = state.withLock { state -> Bool in
                if state.done[id] != nil { return true }
                state.waiters[id] = continuation
                return false
            }
            if done { continuation.resume() }
        }
    }

    func result(_ id: UUID) -> (ContinuousClock.Instant, JobStatus)? { state.withLock { $0.done[id] } }
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1)]
}

func report(_ label: String, _ latencies: [Double]) {
    let sorted = latencies.sorted()
    print(
        String(
            format: "%@: submit→SUCCEEDED latency p50 %.1f ms, p95 %.1f ms, p99 %.1f ms (max %.1f ms)", label,
            percentile(sorted, 50) * 1000, percentile(sorted, 95) * 1000, percentile(sorted, 99) * 1000,
            (sorted.last ?? .nan) * 1000))
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

var logger = Logger(label: "conveyor-bench")
logger.logLevel = .warning
let queue = "bench.events.\(UUID().uuidString.prefix(8))"
let events = try AMQPConnection(
    name: "bench", configuration: AMQPConfiguration(url: amqpURL),
    topology: AMQPTopology(queues: [
        AMQPTopology.Queue(
            name: queue, durable: false, expiresMilliseconds: 60_000,
            bindings: ["succeeded", "failed", "cancelled"].map { (Topology.eventsExchange, "job.\($0).run_model") })
    ]),
    logger: logger)
try await events.waitUntilConnected()
let completions = Completions()
let listener = Task {
    for await delivery in events.consume(queue: queue, prefetch: 1000) {
        if let event = try? Envelope<JobEvent>.decode(delivery.body).payload {
            completions.record(event.jobId, event.status)
        }
        events.ack(delivery)
    }
}

// 1. The model.
let repository = FileManager.default.temporaryDirectory.appendingPathComponent("conveyor-bench-\(UUID().uuidString)").path
try FileManager.default.copyItem(atPath: ScriptRunner.repositoryRoot.appendingPathComponent("examples/true-model").path, toPath: repository)
for arguments in [["init", "-q"], ["add", "-A"], ["-c", "user.name=b", "-c", "user.email=b@localhost", "commit", "-qm", "true"]] {
    guard await ScriptRunner.run(["git", "-C", repository] + arguments) == 0 else { fatalError("git \(arguments) failed") }
}
let importId = try await post(
    #"{"jobType":"IMPORT_MODEL","importModel":{"repository":"\#(repository)","entryPoint":"run","language":"executable","version":"HEAD"}}"#)
var imported = try await getJob(importId)
while !imported.status.isTerminal {
    try await Task.sleep(for: .milliseconds(100))
    imported = try await getJob(importId)
}
guard imported.status == .succeeded, let model = imported.result?.objects.first?.objectId else {
    fatalError("importing the benchmark model failed: \(imported.statusMessage)")
}
let body = #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"}},"owner":"bench"}"#
let pidFolder = (environment["CONVEYOR_STATE"] ?? ScriptRunner.repositoryRoot.appendingPathComponent(".conveyor").path) + "/run"
var result: [(String, String)] = []

// 2. Throughput.
if options.jobs > 0 {
print("conveyor-bench: \(options.jobs) trivial RUN_MODEL jobs, \(options.concurrency) submissions in flight")
let clock = ContinuousClock()
let cpuBefore = ProcessCPU.snapshot(pidFolder: pidFolder)
let started = clock.now
let submitted = try await withThrowingTaskGroup(of: (UUID, ContinuousClock.Instant).self) { group in
    var results: [(UUID, ContinuousClock.Instant)] = []
    var next = 0
    while next < min(options.concurrency, options.jobs) {
        group.addTask { let t = clock.now; return (UUID(uuidString: try await post(body))!, t) }
        next += 1
    }
    while let result = try await group.next() {
        results.append(result)
        if next < options.jobs {
            group.addTask { let t = clock.now; return (UUID(uuidString: try await post(body))!, t) }
            next += 1
        }
    }
    return results
}
let submitDone = clock.now
for (id, _) in submitted { await completions.wait(for: id) }
let cpu = ProcessCPU.snapshot(pidFolder: pidFolder).since(cpuBefore)
let finished = submitted.compactMap { completions.result($0.0)?.0 }.max() ?? clock.now
let failed = submitted.filter { completions.result($0.0)?.1 != .succeeded }.count
let total = seconds(finished - started)
print(String(format: "submitted %d jobs in %.2f s (%.0f submissions/s)", options.jobs, seconds(submitDone - started), Double(options.jobs) / seconds(submitDone - started)))
print(String(format: "all %d jobs ended in %.2f s: %.1f jobs/s end to end (%d not SUCCEEDED)", options.jobs, total, Double(options.jobs) / total, failed))
report("under load", submitted.map { seconds(completions.result($0.0)!.0 - $0.1) })
let perJob = { (value: Double) in value * 1000 / Double(options.jobs) }
print(
    String(format: "CPU per job (ms), every process of the system: %.2f (%.2f cores busy); ", perJob(cpu.total), cpu.busyCores)
        + cpu.seconds.sorted { $0.value > $1.value }.map { String(format: "%@ %.2f", $0.key, perJob($0.value)) }.joined(separator: ", "))
result += [
    ("w1_jobs_per_s", String(format: "%.1f", Double(options.jobs) / total)),
    ("w1_failed", String(failed)),
    ("cpu_ms_per_job", String(format: "%.2f", perJob(cpu.total))),
    ("cpu_ms_per_job_without_client", String(format: "%.2f", perJob(cpu.total - (cpu.seconds["client"] ?? 0)))),
    ("cpu_busy_cores", String(format: "%.2f", cpu.busyCores)),
]
for (name, value) in cpu.seconds.sorted(by: { $0.key < $1.key }) {
    result.append(("cpu_ms_per_job_\(name.replacingOccurrences(of: "-", with: "_"))", String(format: "%.2f", perJob(value))))
}

}

// 3. Latency on an idle system, and where its time goes.
if options.sequential > 0 {
    let clock = ContinuousClock()
    var idle: [Double] = []
    var stages = StageTimes()
    for _ in 0..<options.sequential {
        let sent = Date()
        let t = clock.now
        let id = UUID(uuidString: try await post(body))!
        let accepted = Date()
        await completions.wait(for: id)
        let (seen, _) = completions.result(id)!
        idle.append(seconds(seen - t))
        stages.add(sent: sent, accepted: accepted, seen: Date().addingTimeInterval(-seconds(clock.now - seen)), job: try await getJob(id.uuidString))
    }
    let sorted = idle.sorted()
    report("\(options.sequential) sequential jobs, idle system", idle)
    stages.print()
    result += [
        ("w2obs_p50_ms", String(format: "%.2f", percentile(sorted, 50) * 1000)),
        ("w2obs_p99_ms", String(format: "%.2f", percentile(sorted, 99) * 1000)),
    ]
}
// 4. Reads of a finished job through the gateway.
if options.readSeconds > 0 {
    let id = UUID(uuidString: try await post(body))!
    await completions.wait(for: id)
    let url = "\(gateway)/api/v1/jobs/\(id.uuidString.lowercased())"
    print("reads: wrk -t2 -c32 -d\(options.readSeconds)s GET /api/v1/jobs/{id} (a finished job)")
    if let reads = ReadBench.run(url: url, seconds: options.readSeconds) {
        print(String(format: "reads: %.0f requests/s, latency p50 %.2f ms, p99 %.2f ms, %d errors", reads.requestsPerSecond, reads.p50Milliseconds, reads.p99Milliseconds, reads.errors))
        result += [
            ("get_job_req_per_s", String(format: "%.0f", reads.requestsPerSecond)),
            ("get_job_p99_ms", String(format: "%.2f", reads.p99Milliseconds)),
            ("get_job_errors", String(reads.errors)),
        ]
    }
}
let postgresURL = environment["CONVEYOR_TEST_POSTGRES_URL"] ?? environment["POSTGRES_URL"] ?? "postgres://conveyor@127.0.0.1:5433/conveyor"

// 5. Scale.
if options.scaleJobs > 0 {
    result += try await ScaleBench.run(
        seeding: options.scaleJobs, postgresURL: postgresURL, http: http,
        submit: {
            let started = ContinuousClock.now
            let id = UUID(uuidString: try await post(body))!
            return (id, seconds(ContinuousClock.now - started))
        },
        waitUntilEnded: { await completions.wait(for: $0) })
}
// The scheduler taking over a backlog.
if options.failoverJobs > 0 {
    result += try await FailoverBench.run(
        queued: options.failoverJobs, postgresURL: postgresURL, stateFolder: pidFolder,
        submit: { UUID(uuidString: try await post($0))! }, status: { try await getJob($0.uuidString).status.rawValue },
        model: model.uuidString)
}
listener.cancel()
await events.close()
try? FileManager.default.removeItem(atPath: repository)

// 6. Search.
if options.searchObjects > 0 {
    result += try await SearchBench.run(objects: options.searchObjects, postgresURL: postgresURL, http: http)
}
await http.shutdown()

result += schedulerFigures
if !result.isEmpty {
    print("RESULT config=conveyor " + result.map { "\($0.0)=\($0.1)" }.joined(separator: " "))
}
