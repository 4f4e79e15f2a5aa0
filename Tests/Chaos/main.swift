// conveyor-chaos: a load of jobs with e-mail notifications through the public HTTP API while every
// part of the system is taken away in turn, then a count of what was lost.
//
// 1. Imports examples/true-model (one exec of /bin/true).
// 2. Submits --jobs N RUN_MODEL jobs (label `chaos:<run>`, one e-mail address each, an idempotency
//    key each) at a steady rate over the planned length of the chaos; a submit that fails (the
//    gateway or metadata is away) is sent again with the same key until it is accepted.
// 3. Meanwhile, in turn: each of the seven services is killed with SIGKILL and started again,
//    RabbitMQ is stopped and started, PostgreSQL is restarted, and the SMTP sink is taken away for
//    --smtp-outage S seconds. After each, a probe job is submitted: the component's recovery time is
//    from the disruption until the probe SUCCEEDED (for SMTP: until the e-mails held back during the
//    outage were all sent).
// 4. Waits for every job to end and every e-mail to arrive, and prints jobs accepted, SUCCEEDED,
//    stuck, duplicated, e-mails lost and duplicated, and each recovery time.
// Exits 1 on any lost or stuck job, any duplicate job or e-mail, or any lost e-mail.
//
// With --cluster-node N (the services on deploy/local/rabbitmq-cluster.sh with quorum queues),
// the disruption is instead: node N of the RabbitMQ cluster stopped (a probe job must succeed
// while it is away), then started again (another probe), and no SMTP outage unless asked for.
//
// With --rolling 1 (two instances of every service running: deploy/local/rolling-test.sh), the
// disruption is instead a rolling restart: each service in turn, one instance at a time, is stopped
// gracefully (SIGTERM) and started again while the other instance carries on (a probe job must
// succeed after each); the load goes to both gateways (CONVEYOR_GATEWAY_URLS), a submission that
// finds one away goes to the other; no SMTP outage unless asked for.
//
// Usage: conveyor-chaos [--jobs N] [--smtp-outage S] [--settle S] [--cluster-node N] [--rolling 1]
// Environment: CONVEYOR_GATEWAY_URL (http://127.0.0.1:8080) or CONVEYOR_GATEWAY_URLS (a comma
// list, used in turn), CONVEYOR_STATE (.conveyor).

import Foundation
import Synchronization
import TestSupport

struct ChaosOptions {
    var jobs = 2000
    var smtpOutageSeconds = 300
    /// How long to wait, after the last disruption, for every job to end and every e-mail to arrive.
    var settleSeconds = 600
    /// The RabbitMQ cluster node to stop (deploy/local/rabbitmq-cluster.sh), in place of the other disruptions.
    var clusterNode: Int?
    /// Restart every service's instances in turn instead (two of each are running).
    var rolling = false

    init(_ arguments: [String]) {
        var iterator = arguments.dropFirst().makeIterator()
        while let flag = iterator.next() {
            guard let value = iterator.next().flatMap(Int.init), value >= 0 else {
                fatalError("usage: conveyor-chaos [--jobs N] [--smtp-outage S] [--settle S] [--cluster-node N] [--rolling 1] (bad value for \(flag))")
            }
            switch flag {
            case "--jobs": jobs = max(1, value)
            case "--smtp-outage": smtpOutageSeconds = value
            case "--settle": settleSeconds = value
            case "--cluster-node":
                clusterNode = value
                if !arguments.contains("--smtp-outage") { smtpOutageSeconds = 0 }
            case "--rolling":
                rolling = value != 0
                if !arguments.contains("--smtp-outage") { smtpOutageSeconds = 0 }
            default: fatalError("unknown option \(flag)")
            }
        }
    }
}

let environment = ProcessInfo.processInfo.environment
let options = ChaosOptions(CommandLine.arguments)
/// The gateways the load goes to, in turn.
let gateways = (environment["CONVEYOR_GATEWAY_URLS"] ?? environment["CONVEYOR_GATEWAY_URL"] ?? "http://127.0.0.1:8080")
    .split(separator: ",").map { String($0.trimmingCharacters(in: .whitespaces)) }.filter { !$0.isEmpty }
let nextGateway = Atomic<Int>(0)
let adminToken = LocalAdminToken.read()
let state = environment["CONVEYOR_STATE"] ?? ScriptRunner.repositoryRoot.appendingPathComponent(".conveyor").path
let run = String(UUID().uuidString.prefix(8)).lowercased()
let started = ContinuousClock.now

func say(_ text: String) {
    // Unbuffered, so the progress shows while the run goes on (stdout may be a pipe).
    FileHandle.standardOutput.write(Data((String(format: "[chaos %5.1fs] ", seconds(ContinuousClock.now - started)) + text + "\n").utf8))
}

/// Ends the run at a step that could not be carried out: the reason as the last line (a CI log shows
/// only its tail), exit status 2, unlike 1 for a run that completed and found losses.
func giveUp(_ reason: String) -> Never {
    say("ABORTED: \(reason)")
    exit(2)
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

let http = GatewayHTTP(connections: 16, token: adminToken, timeout: 30)

/// A request to the next gateway in turn, or, when one cannot be reached (it is restarting), the
/// others: the status and body (status 0 when none could be reached).
func send(_ method: GatewayHTTP.Method, _ path: String, json: String? = nil) async -> (status: Int, body: Data) {
    let first = nextGateway.add(1, ordering: .relaxed).oldValue
    for index in 0..<gateways.count {
        let answer = await request(method, gateways[(first + index) % gateways.count] + path, json: json)
        if answer.status != 0 && answer.status != 502 && answer.status != 503 { return answer }
        if index == gateways.count - 1 { return answer }
    }
    return (0, Data())
}

func request(_ method: GatewayHTTP.Method, _ url: String, json: String?) async -> (status: Int, body: Data) {
    (try? await http.send(method, url, json: json.map { Data($0.utf8) })) ?? (0, Data())
}

func object(_ data: Data) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
}

/// Submits until the gateway accepts (the same idempotency key each time); the job id, or nil when
/// the submission was refused (4xx).
func submit(_ json: String) async -> String? {
    var delay = Duration.milliseconds(200)
    while true {
        let (status, body) = await send(.POST, "/api/v1/jobs", json: json)
        if status == 201 || status == 200, let id = object(body)["jobId"] as? String { return id.lowercased() }
        if (400..<500).contains(status) && status != 429 && status != 408 {
            say("a submission was refused (\(status)): \(String(decoding: body.prefix(300), as: UTF8.self))")
            return nil
        }
        try? await Task.sleep(for: delay)
        delay = min(delay * 2, .seconds(2))
    }
}

func status(of id: String) async -> String? {
    let (code, body) = await send(.GET, "/api/v1/jobs/\(id)")
    return code == 200 ? object(body)["status"] as? String : nil
}

/// Waits until job `id` ends; its final status, or nil at `timeout`.
func waitForEnd(_ id: String, timeout: Duration) async -> String? {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if let status = await status(of: id), ["SUCCEEDED", "FAILED", "CANCELLED"].contains(status) { return status }
        try? await Task.sleep(for: .milliseconds(250))
    }
    return nil
}

// MARK: 1. The model

let repository = FileManager.default.temporaryDirectory.appendingPathComponent("conveyor-chaos-\(run)").path
try FileManager.default.copyItem(atPath: ScriptRunner.repositoryRoot.appendingPathComponent("examples/true-model").path, toPath: repository)
for arguments in [["init", "-q"], ["add", "-A"], ["-c", "user.name=c", "-c", "user.email=c@localhost", "commit", "-qm", "true"]] {
    guard await ScriptRunner.run(["git", "-C", repository] + arguments) == 0 else { giveUp("git \(arguments) failed") }
}
guard
    let importId = await submit(
        #"{"jobType":"IMPORT_MODEL","importModel":{"repository":"\#(repository)","entryPoint":"run","language":"executable","version":"HEAD"}}"#),
    await waitForEnd(importId, timeout: .seconds(120)) == "SUCCEEDED",
    let model = ((object(await send(.GET, "/api/v1/jobs/\(importId)").body)["result"] as? [String: Any])?["objects"] as? [[String: Any]])?
        .first?["objectId"] as? String
else { giveUp("could not import examples/true-model") }
say("run \(run): model \(model.lowercased()); \(options.jobs) jobs, SMTP away for \(options.smtpOutageSeconds) s")

// MARK: 2. The load

/// What the load learned: the job id each key was answered with, and any key answered with two.
final class Ledger: Sendable {
    let state = Mutex<(ids: [Int: String], duplicates: [Int], refused: Int)>(([:], [], 0))
    func record(_ index: Int, _ id: String?) {
        state.withLock { state in
            guard let id else { return state.refused += 1 }
            if let known = state.ids[index], known != id { state.duplicates.append(index) }
            state.ids[index] = id
        }
    }
}
let ledger = Ledger()

func jobJSON(_ index: Int) -> String {
    #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"}},"labels":{"chaos":"\#(run)"},"idempotencyKey":"chaos-\#(run)-\#(index)","notification":{"email":["chaos-\#(index)@example.com"]}}"#
}

// The disruptions take about 40 s in all (a service comes back in about 3 s, the broker in about
// 13 s), then the SMTP outage: the jobs are spread over that time, so that every disruption hits
// jobs in flight.
// A rolling restart takes about 20 s on this machine (14 instances, about 1.5 s each).
let plannedSeconds = Double((options.rolling ? 30 : 40) + options.smtpOutageSeconds)
let interval = plannedSeconds / Double(options.jobs)
let load = Task {
    await withTaskGroup(of: Void.self) { group in
        for index in 0..<options.jobs {
            group.addTask { ledger.record(index, await submit(jobJSON(index))) }
            try? await Task.sleep(for: .milliseconds(Int(interval * 1000)))
        }
    }
}

/// The e-mails in the maildir, by job id (from the `X-Conveyor-Job-Id` header).
func mailsByJob() -> [String: Int] {
    let folder = state + "/mail/new"
    var found: [String: Int] = [:]
    for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
        guard let data = FileManager.default.contents(atPath: folder + "/" + name) else { continue }
        let text = String(decoding: data.prefix(4096), as: UTF8.self)
        guard let range = text.range(of: "X-Conveyor-Job-Id: ", options: .caseInsensitive) else { continue }
        found[String(text[range.upperBound...].prefix(36)).lowercased(), default: 0] += 1
    }
    return found
}
// MARK: 3. The disruptions

struct Recovery {
    var component: String
    var seconds: Double?
}
var recoveries: [Recovery] = []

/// Submits a probe job and waits for it to succeed: the time from `since` until it did.
func probe(_ component: String, since: ContinuousClock.Instant) async -> Recovery {
    let body = #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"}},"labels":{"chaos-probe":"\#(run)"},"idempotencyKey":"chaos-\#(run)-probe-\#(component)"}"#
    guard let id = await submit(body), await waitForEnd(id, timeout: .seconds(180)) == "SUCCEEDED" else {
        say("\(component): the probe job did not succeed within 180 s")
        return Recovery(component: component, seconds: nil)
    }
    let recovery = Recovery(component: component, seconds: seconds(ContinuousClock.now - since))
    say(String(format: "%@: recovered in %.1f s", component, recovery.seconds!))
    return recovery
}

/// What the scripts the run calls print (services.sh, infra.sh): shown when one of them fails.
let scriptLog = state + "/logs/chaos-scripts.log"
func services(_ arguments: [String]) async -> Int32 { await ScriptRunner.script("deploy/local/services.sh", arguments, outputPath: scriptLog) }
func infra(_ arguments: [String]) async -> Int32 { await ScriptRunner.script("deploy/local/infra.sh", arguments, outputPath: scriptLog) }
/// The last lines of the scripts' output, for a step that failed.
func scriptLogTail(_ lines: Int = 25) -> String {
    let text = (try? String(contentsOfFile: scriptLog, encoding: .utf8)) ?? ""
    return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
}

func cluster(_ arguments: [String]) async -> Int32 {
    await ScriptRunner.script("deploy/local/rabbitmq-cluster.sh", arguments, outputPath: scriptLog)
}

try await Task.sleep(for: .seconds(5))
if let node = options.clusterNode {
    // One node of the cluster away: every connection to it goes on to another node, every quorum
    // queue keeps a majority; then the node comes back and rejoins.
    let since = ContinuousClock.now
    say("rabbitmq cluster: node \(node) stopped")
    guard await cluster(["stop-node", "\(node)"]) == 0 else { giveUp("could not stop cluster node \(node):\n\(scriptLogTail())") }
    recoveries.append(await probe("rabbitmq node \(node) away", since: since))
    try await Task.sleep(for: .seconds(10))
    let back = ContinuousClock.now
    say("rabbitmq cluster: node \(node) started again")
    guard await cluster(["start-node", "\(node)"]) == 0 else { giveUp("could not start cluster node \(node):\n\(scriptLogTail())") }
    recoveries.append(await probe("rabbitmq node \(node) back", since: back))
}
if options.rolling {
    // Each instance stopped gracefully and started again while the other one carries on.
    // The gateways first, while the load is at its height.
    for service in ["api-gateway", "metadata", "scheduler", "runner", "notifier", "importer", "exporter"] {
        for instance in [service, service + "@2"] {
            let since = ContinuousClock.now
            say("\(instance): restart (SIGTERM, start, healthy)")
            guard await services(["restart", instance]) == 0 else {
                say("services.sh restart \(instance) said:\n\(scriptLogTail())")
                giveUp("\(instance) did not start again (its log: \(state)/logs/\(instance).log)")
            }
            recoveries.append(await probe("restart \(instance)", since: since))
        }
    }
}
for service in ["api-gateway", "metadata", "scheduler", "runner", "notifier", "importer", "exporter"]
where options.clusterNode == nil && !options.rolling {
    let pidFile = state + "/run/\(service).pid"
    let since = ContinuousClock.now
    say("\(service): SIGKILL")
    _ = await ScriptRunner.run(["/bin/bash", "-c", "kill -9 $(cat '\(pidFile)')"])
    try await Task.sleep(for: .seconds(2))
    guard await services(["start", service]) == 0 else {
        say("services.sh start \(service) said:\n\(scriptLogTail())")
        giveUp("\(service) did not start again after SIGKILL (its log: \(state)/logs/\(service).log)")
    }
    recoveries.append(await probe(service, since: since))
}
if options.clusterNode == nil && !options.rolling {
    let since = ContinuousClock.now
    say("rabbitmq: stop_app, 5 s, start_app")
    _ = await infra(["rabbitmqctl", "stop_app"])
    try await Task.sleep(for: .seconds(5))
    _ = await infra(["rabbitmqctl", "start_app"])
    recoveries.append(await probe("rabbitmq", since: since))
}
if options.clusterNode == nil && !options.rolling {
    let since = ContinuousClock.now
    say("postgres: restart")
    _ = await infra(["restart-postgres"])
    recoveries.append(await probe("postgres", since: since))
}
say("smtp: away for \(options.smtpOutageSeconds) s")
if options.smtpOutageSeconds > 0 {
    _ = await infra(["smtp-down"])
    try await Task.sleep(for: .seconds(options.smtpOutageSeconds))
    _ = await infra(["smtp-up"])
}
let smtpBack = ContinuousClock.now
say("smtp: back")
// The e-mails of the jobs accepted until now were held back (or not due yet): the time until all of
// them arrived is SMTP's recovery.
let held = Set(ledger.state.withLock { $0.ids.values })
var smtpRecovery: Double?
let heldDeadline = ContinuousClock.now + .seconds(options.settleSeconds)
while ContinuousClock.now < heldDeadline {
    let arrived = mailsByJob()
    if held.allSatisfy({ arrived[$0] != nil }) {
        smtpRecovery = seconds(ContinuousClock.now - smtpBack)
        say(String(format: "smtp: the %d e-mails held back were all sent %.1f s after it came back", held.count, smtpRecovery!))
        break
    }
    try await Task.sleep(for: .milliseconds(500))
}
recoveries.append(Recovery(component: "smtp (every held e-mail sent)", seconds: smtpRecovery))
await load.value
say("load: all \(options.jobs) submissions answered")

// MARK: 4. The count

let ids = ledger.state.withLock { $0.ids }
let deadline = ContinuousClock.now + .seconds(options.settleSeconds)
var counts: [String: Int] = [:]
while ContinuousClock.now < deadline {
    let (_, body) = await send(.GET, "/api/v1/jobs?label=chaos:\(run)&counts=true&limit=1")
    counts = ((object(body)["counts"] as? [String: Any])?["byStatus"] as? [String: Int]) ?? counts
    let ended = ["SUCCEEDED", "FAILED", "CANCELLED"].reduce(0) { $0 + (counts[$1] ?? 0) }
    if ended >= ids.count, counts.values.reduce(0, +) == ended { break }
    try await Task.sleep(for: .seconds(1))
}
let total = counts.values.reduce(0, +)
let succeeded = counts["SUCCEEDED"] ?? 0
let stuck = total - ["SUCCEEDED", "FAILED", "CANCELLED"].reduce(0) { $0 + (counts[$1] ?? 0) }
say("jobs: \(ids.count) accepted, \(total) with the run's label, \(succeeded) SUCCEEDED, \(stuck) not ended")

let expected = Set(ids.values)
var mails: [String: Int] = [:]
let mailDeadline = ContinuousClock.now + .seconds(options.settleSeconds)
while ContinuousClock.now < mailDeadline {
    mails = mailsByJob()
    if expected.allSatisfy({ mails[$0] != nil }) { break }
    try await Task.sleep(for: .seconds(1))
}
try await Task.sleep(for: .seconds(3))
mails = mailsByJob()
let lostMails = expected.filter { mails[$0] == nil }.count
let duplicateMails = expected.filter { (mails[$0] ?? 0) > 1 }.count
let (duplicateKeys, refused) = ledger.state.withLock { ($0.duplicates.count, $0.refused) }

print("")
print("CHAOS run=\(run) jobs=\(options.jobs)")
print("  jobs accepted:      \(ids.count) (refused: \(refused))")
print("  jobs SUCCEEDED:     \(succeeded)")
print("  jobs stuck:         \(stuck)")
print("  jobs duplicated:    \(max(0, total - ids.count) + duplicateKeys)")
print("  e-mails lost:       \(lostMails)")
print("  e-mails duplicated: \(duplicateMails)")
for recovery in recoveries {
    print("  recovery \(recovery.component): " + (recovery.seconds.map { String(format: "%.1f s", $0) } ?? "did not recover"))
}
http.shutdown()
let failed = ids.count != options.jobs || succeeded != ids.count || stuck != 0 || total != ids.count || duplicateKeys != 0
    || lostMails != 0 || duplicateMails != 0 || recoveries.contains { $0.seconds == nil }
print(failed ? "CHAOS FAILED" : "CHAOS PASSED")
exit(failed ? 1 : 0)
