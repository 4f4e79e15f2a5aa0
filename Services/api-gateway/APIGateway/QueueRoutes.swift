import ConveyorModels
import Foundation
import Hummingbird
import Messaging
import ServiceKit

/// `/api/v1/queue`: what the scheduler has queued and running, per job type and owner, and the
/// workers' capacity with what is in use; and where a queued job stands (added to its record).
struct QueueRoutes: Sendable {
    let scheduler: SchedulerClient
    /// How long the gateway waits for the scheduler's answer.
    static let timeout: Duration = .seconds(2)

    func add(to router: Router<GatewayContext>) {
        router.get("api/v1/queue", use: summary)
    }

    /// `GET /api/v1/queue`: 503 while no scheduler answers. A user sees the totals per job type and
    /// the workers, and of the owners only themselves.
    @Sendable func summary(request: Request, context: GatewayContext) async throws -> Response {
        let caller = try context.caller()
        do {
            let answer = try await scheduler.callReturningJSON(GetQueueSummary(), timeout: Self.timeout)
            if caller.seesEverything { return RouteSupport.json(passing: answer) }
            var summary = try ConveyorJSON.decode(QueueSummary.self, from: answer)
            summary.owners = summary.owners.filter { $0.key == caller.name }
            return try RouteSupport.json(summary)
        } catch let error where DeliveryFailure(error) != nil {
            throw Problem(.serviceUnavailable, "the scheduler did not answer; retry")
        }
    }

    /// A queued job's record with where it stands added as `queue` (position, the jobs ahead, the
    /// estimated start, why it waits); the record as it is when the scheduler does not answer in time.
    func addingPosition(to record: Data, of jobId: UUID) async -> Data {
        guard JSONSlice.string(at: ["status"], in: record) == JobStatus.queued.rawValue,
            let answer = try? await scheduler.callReturningJSON(GetQueuePositions(jobIds: [jobId]), timeout: .seconds(1)),
            let position = JSONSlice.range(of: ["positions", jobId.uuidString.lowercased()], in: answer),
            let end = record.lastIndex(of: UInt8(ascii: "}"))
        else { return record }
        var spliced = Data(record[..<end])
        spliced.append(contentsOf: Array(#","queue":"#.utf8))
        spliced.append(answer[position])
        spliced.append(UInt8(ascii: "}"))
        return spliced
    }
}
