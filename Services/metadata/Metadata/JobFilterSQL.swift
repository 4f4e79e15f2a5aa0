import ConveyorModels
import Foundation
import Postgres

/// The WHERE conditions of a job listing, every value bound as a parameter.
struct JobFilterSQL {
    private(set) var conditions: [String] = []
    private(set) var parameters: [(any PostgresBindable)?] = []

    mutating func bind(_ value: (any PostgresBindable)?) -> String {
        parameters.append(value)
        return "$\(parameters.count)"
    }

    mutating func add(_ request: ListJobs) {
        if let statuses = request.statuses, !statuses.isEmpty {
            conditions.append("status = ANY(\(bind(PostgresArray.literal(statuses.map(\.rawValue))))::text[])")
        }
        if let types = request.jobTypes, !types.isEmpty {
            conditions.append("job_type = ANY(\(bind(PostgresArray.literal(types.map(\.rawValue))))::text[])")
        }
        if let owner = request.owner { conditions.append("owner = \(bind(owner))") }
        if let labels = request.labels, !labels.isEmpty, let json = try? ConveyorJSON.encode(labels) {
            // Only jobs with labels are in the labels index; the second condition lets it be used.
            conditions.append("labels @> \(bind(String(decoding: json, as: UTF8.self)))::jsonb AND labels <> '{}'::jsonb")
        }
        range(request.submitted, "submitted_at")
        range(request.started, "started_at")
        range(request.finished, "finished_at")
    }

    private mutating func range(_ range: TimeRange?, _ column: String) {
        guard let range else { return }
        if let from = range.from { conditions.append("\(column) >= \(bind(from))::timestamptz") }
        if let to = range.to { conditions.append("\(column) < \(bind(to))::timestamptz") }
    }
}

extension JobSort {
    /// The SQL sort key (never NULL, so keyset paging works for jobs that have not started or finished).
    var sqlExpression: String {
        switch self {
        case .submittedAt: "submitted_at"
        case .startedAt: "COALESCE(started_at, '-infinity'::timestamptz)"
        case .finishedAt: "COALESCE(finished_at, '-infinity'::timestamptz)"
        case .priority: "priority"
        }
    }

    var sqlType: String { self == .priority ? "int" : "timestamptz" }
}

/// The opaque cursor of a job listing: sort order, the last sort key and job id of the page.
struct JobListCursor: Codable {
    var sort: JobSort
    var descending: Bool
    var key: String
    var jobId: UUID

    /// The key is what this service wrote: an integer for priority, else a timestamp.
    var isWellFormed: Bool {
        sort == .priority ? Int32(key) != nil : (key == "-infinity" || PostgresTimestamp.parse(key) != nil)
    }

    func encoded() -> String {
        ((try? ConveyorJSON.encode(self)) ?? Data()).base64EncodedString()
    }

    static func decode(_ text: String) -> JobListCursor? {
        guard let data = Data(base64Encoded: text) else { return nil }
        return try? ConveyorJSON.decode(JobListCursor.self, from: data)
    }
}

