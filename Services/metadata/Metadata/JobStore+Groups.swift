import ConveyorModels
import Foundation
import PostgresClient

/// JOB_GROUP: when a child ends, the group starts its next child (sequential) or, once every child
/// has ended, ends itself: SUCCEEDED when all succeeded, else FAILED naming the first that did not.
extension JobStore {
    /// Called in the transaction that ended a child (the child is locked; the group is locked here).
    func childEnded(_ connection: PostgresConnection, parentId: UUID) async throws {
        guard let parent = try await connection.query("SELECT * FROM jobs WHERE job_id = $1 FOR UPDATE", [parentId]).first else { return }
        let status = JobStatus(rawValue: try parent.string("status"))!
        guard !status.isTerminal else { return }
        let definition = try ConveyorJSON.decode(JobDefinition.self, from: Data(try parent.string("definition").utf8))
        guard let group = definition.jobGroup else { return }
        let children = try await connection.query(
            "SELECT job_id, status, status_message, group_position FROM jobs WHERE parent_job_id = $1 ORDER BY group_position",
            [parentId])
        let statuses = try children.map { JobStatus(rawValue: try $0.string("status"))! }
        if let failed = try children.first(where: { [.failed, .cancelled].contains(JobStatus(rawValue: try $0.string("status"))!) }),
            group.groupType == .sequential || statuses.allSatisfy(\.isTerminal)
        {
            let position = try failed.int("group_position")
            let message = "job \(position + 1) of \(group.jobs.count) (\(try failed.uuid("job_id").lowercased)) \(try failed.string("status")): \(try failed.string("status_message"))"
            try await endGroup(connection, parent, from: status, as: .failed, message: message)
            return
        }
        guard statuses.allSatisfy({ $0 == .succeeded }) else { return }
        if group.groupType == .sequential, children.count < group.jobs.count {
            try await insertJob(connection, group.jobs[children.count].inheriting(from: definition), parent: parentId, position: children.count)
            return
        }
        try await endGroup(connection, parent, from: status, as: .succeeded, message: "all \(group.jobs.count) jobs succeeded")
    }

    private func endGroup(_ connection: PostgresConnection, _ parent: PostgresRow, from status: JobStatus, as outcome: JobStatus, message: String) async throws {
        let parentId = try parent.uuid("job_id")
        let objects = try await connection.query(
            "SELECT result FROM jobs WHERE parent_job_id = $1 AND result IS NOT NULL ORDER BY group_position", [parentId])
        let produced = try objects.flatMap { row in
            try ConveyorJSON.decode(JobResult.self, from: Data(try row.string("result").utf8)).objects
        }
        let result = JobResult(status: outcome, message: message, exitCode: nil, objects: produced, logBytes: 0)
        try await transition(
            connection, jobId: parentId, to: outcome, message: message, from: status, base: try JobStore.eventBase(parent, attempt: 0),
            assignments: JobStore.ending, [try PostgresJSON(ConveyorJSON.encode(result))])
        if let grandparent = parent.uuidIfPresent("parent_job_id") {
            try await childEnded(connection, parentId: grandparent)
        }
    }
}
