import Foundation

/// What a running model says of itself (torc's "data and events from a running job"), through the
/// file `$CONVEYOR_PROGRESS`: how far it is, small named results, and events. Bounded: see
/// ``ProgressRules``.
public struct AttemptProgress: Sendable, Codable, Hashable {
    /// 0...1, when the model said.
    public var fraction: Double?
    public var message: String?
    /// Name → a typed value (INTEGER, FLOAT, STRING or BOOLEAN).
    public var results: [String: Value]
    /// The latest events, oldest first.
    public var events: [ProgressEvent]
    /// Lines the runner could not use (malformed, too long, past a bound), counted.
    public var ignoredLines: Int
    public var updatedAt: Date?

    public init(
        fraction: Double? = nil, message: String? = nil, results: [String: Value] = [:], events: [ProgressEvent] = [], ignoredLines: Int = 0,
        updatedAt: Date? = nil
    ) {
        self.fraction = fraction
        self.message = message
        self.results = results
        self.events = events
        self.ignoredLines = ignoredLines
        self.updatedAt = updatedAt
    }
}

public struct ProgressEvent: Sendable, Codable, Hashable {
    public var at: Date
    public var message: String

    public init(at: Date, message: String) {
        self.at = at
        self.message = message
    }
}

/// The bounds of what a model may say while it runs.
public enum ProgressRules {
    /// A line longer than this is ignored.
    public static let maxLineBytes = 4096
    /// Messages and events are cut to this many characters.
    public static let maxTextCharacters = 500
    public static let maxResults = 50
    /// Only the latest events are kept.
    public static let maxEvents = 20
    /// Lines read per look at the file (every usage sample); more wait for the next look.
    public static let maxLinesPerRead = 200
    /// The most of the file that is read in all; the rest is ignored.
    public static let maxFileBytes = 1 << 20
}
