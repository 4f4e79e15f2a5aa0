import AMQPClient
import ConveyorModels
import Foundation
import Logging
import TestSupport
import Testing

/// The platform survives its broker or its database going away: services wait and reconnect by
/// themselves, and every job accepted before, during or after the outage finishes once.
@Suite("Outages", .serialized)
struct OutageTests {
    enum Outage: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case rabbitMQRestart = "RabbitMQ restart"
        case postgreSQLRestart = "PostgreSQL restart"

        var testDescription: String { rawValue }

        func happen() async -> [Int32] {
            switch self {
            case .rabbitMQRestart:
                [
                    await ScriptRunner.script("deploy/local/infra.sh", ["rabbitmqctl", "stop_app"]),
                    await ScriptRunner.script("deploy/local/infra.sh", ["rabbitmqctl", "start_app"]),
                ]
            case .postgreSQLRestart:
                [await ScriptRunner.script("deploy/local/infra.sh", ["restart-postgres"])]
            }
        }
    }

    @Test("jobs accepted around an outage all succeed, none twice", arguments: Outage.allCases)
    func outage(_ outage: Outage) async throws {
        let model = try await Platform.importModel(path: "noop-model", entryPoint: "run.sh", language: "shell")
        let body = #"{"jobType":"RUN_MODEL","runModel":{"model":{"objectId":"\#(model)"},"parameters":{"sleep":0.5}}}"#
        var ids: [String] = []
        for _ in 0..<3 { ids.append(try await Platform.submit(body)) }

        #expect(await outage.happen().allSatisfy { $0 == 0 })

        // While services reconnect the gateway may answer 503/504: a client retries.
        for _ in 0..<3 {
            var accepted = false
            for _ in 0..<60 where !accepted {
                let result = try await Platform.request("POST", "/api/v1/jobs", body: Data(body.utf8))
                if result.status == 201, let id = result.json["jobId"] as? String {
                    ids.append(id)
                    accepted = true
                } else {
                    #expect([503, 504].contains(result.status), "\(result.status): \(result.text)")
                    try await Task.sleep(for: .milliseconds(500))
                }
            }
            #expect(accepted)
        }
        for id in ids {
            let job = try await Platform.waitForEnd(id, timeout: .seconds(90))
            #expect(job["status"] as? String == "SUCCEEDED", "\(id): \(job["statusMessage"] ?? "")")
            #expect(Platform.statuses(job).filter { $0 == "SUCCEEDED" }.count == 1)
        }
    }
}
