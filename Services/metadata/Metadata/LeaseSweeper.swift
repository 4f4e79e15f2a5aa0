import Foundation
import Logging
import ServiceLifecycle

/// Re-queues the attempts whose lease expired, every few seconds: a worker renews the leases of what
/// it runs, so an expired lease means the worker died or was cut off (and has stopped the attempt
/// itself). Metadata does this on its own, so a job never stays RUNNING on a worker that is gone,
/// whether or not a scheduler is there to notice. A job whose worker was lost too often fails.
struct LeaseSweeper: Service {
    let store: JobStore
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully, (try? await Task.sleep(for: interval)) != nil {
            do {
                let requeued = try await store.requeueExpiredLeases()
                if requeued > 0 { logger.warning("re-queued attempts whose lease expired", metadata: ["count": "\(requeued)"]) }
            } catch {
                logger.warning("lease sweep failed; trying again", metadata: ["error": "\(error)"])
            }
        }
    }
}
