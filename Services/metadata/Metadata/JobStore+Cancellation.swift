import ConveyorModels
import Foundation
import Postgres

/// Cancelling a job on request: it ends CANCELLED with its unfinished jobs (for a group), and its
/// own group reacts as when a job fails.
extension JobStore {
    /// Ends a job that has not ended yet as CANCELLED; a group's unfinished jobs are cancelled with
    /// it, in the same transaction.
    /// - Throws: ``MetadataError`` `notFound`, or `conflict` when the job already ended.
    func cancel(_ request: CancelJob) async throws -> JobRecord {
        let status = try await pool.query("SELECT status FROM jobs WHERE job_id = $1", [request.jobId]).first
            .map { JobStatus(rawValue: try $0.string("status")) ?? .failed }
        guard let status else { throw MetadataError.notFound("no job \(request.jobId.lowercased)") }
        guard !status.isTerminal else {
            throw MetadataError.conflict("job \(request.jobId.lowercased) is already \(status.rawValue)")
        }
        let reason = request.reason.map { "cancelled: \($0)" } ?? "cancelled on request"
        try await withJobTransaction { transaction in
            guard try await cancel(request.jobId, message: reason, cascading: false, in: transaction) else {
                throw MetadataError.conflict("job \(request.jobId.lowercased) ended meanwhile")
            }
        }
        return try await job(request.jobId)
    }

    /// Cancels one job and its unfinished jobs, the innermost first (locks are taken from the leaves
    /// up, the order in which a finishing job locks its group). Returns false when it had ended.
    @discardableResult
    private func cancel(_ jobId: UUID, message: String, cascading: Bool, in transaction: JobTransaction) async throws -> Bool {
        for child in try await unfinishedChildren(of: jobId, in: transaction) {
            try await cancel(child, message: "cancelled with its group: \(message)", cascading: true, in: transaction)
        }
        try await transaction.flush()
        let (jobs, now) = try await JobRepository.lockStates([jobId], in: transaction.transaction)
        guard let state = jobs[jobId]?.state, state.status.canTransition(to: .cancelled) else { return false }
        // A job the group started while it was being locked (its predecessor finished meanwhile).
        for child in try await unfinishedChildren(of: jobId, in: transaction) {
            try await cancel(child, message: "cancelled with its group: \(message)", cascading: true, in: transaction)
        }
        let decision = JobLifecycle.cancel(state, message: message, cascading: cascading, now: now)
        guard let change = decision.change else { return false }
        try transaction.writes.apply(change)
        if let group = decision.groupToNotify { try await settleGroups([group], in: transaction) }
        return true
    }

    private func unfinishedChildren(of jobId: UUID, in transaction: JobTransaction) async throws -> [UUID] {
        try await transaction.transaction.pipeline([
            try PostgresStatement(
                "SELECT job_id FROM jobs WHERE parent_job_id = $1 AND status NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED') ORDER BY job_id",
                [jobId])
        ])[0].map { try $0.uuid("job_id") }
    }
}
