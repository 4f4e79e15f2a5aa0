import Foundation

/// Why an attempt did not succeed.
public enum FailureKind: String, Sendable, Codable, CaseIterable, Hashable {
    /// The model exited with a code other than 0.
    case exitCode = "EXIT_CODE"
    /// The model was killed by a signal it did not expect (not a time limit, not a cancellation).
    case signal = "SIGNAL"
    /// The model ran past its time limit (`maxRunSeconds`) and was killed.
    case timeout = "TIMEOUT"
    /// The model used more memory than its limit and was killed.
    case outOfMemory = "OUT_OF_MEMORY"
    /// The attempt's work folder outgrew its disk quota and the model was killed.
    case diskLimit = "DISK_LIMIT"
    /// The worker stopped answering (or lost its lease) while it ran the attempt.
    case workerLost = "WORKER_LOST"
    /// The job was cancelled.
    case cancelled = "CANCELLED"
    /// The worker could not run it (an input, a model or storage it needed was not usable).
    case error = "ERROR"

    /// What a job's attempt is retried for when its policy does not say. (An attempt whose worker
    /// was lost is always re-queued, up to `metadata.maxWorkerLost` times, whatever the policy.)
    public static let retriedByDefault: [FailureKind] = [.signal, .timeout, .outOfMemory]

    /// In words, for messages and e-mails.
    public var phrase: String {
        switch self {
        case .exitCode: "exit code"
        case .signal: "killed by a signal"
        case .timeout: "time limit"
        case .outOfMemory: "out of memory"
        case .diskLimit: "disk limit"
        case .workerLost: "worker lost"
        case .cancelled: "cancelled"
        case .error: "could not run"
        }
    }
}

/// How an attempt failed: its kind, with the exit code or signal when there is one.
public struct AttemptFailure: Sendable, Codable, Hashable, CustomStringConvertible {
    public var kind: FailureKind
    public var exitCode: Int?
    public var signal: Int?

    public init(kind: FailureKind, exitCode: Int? = nil, signal: Int? = nil) {
        self.kind = kind
        self.exitCode = exitCode
        self.signal = signal
    }

    public var description: String {
        switch kind {
        case .exitCode: "exit code \(exitCode.map(String.init) ?? "?")"
        case .signal: "killed by signal \(signal.map(String.init) ?? "?")"
        default: kind.phrase
        }
    }
}

/// An attempt that ended without succeeding, as the job's result and history keep it.
public struct AttemptSummary: Sendable, Codable, Hashable {
    public var attempt: Int
    public var failure: AttemptFailure
    public var message: String
    public var workerId: String?
    public var endedAt: Date
    /// Its log, when the worker reported one.
    public var logFile: TagSelector?

    public init(attempt: Int, failure: AttemptFailure, message: String, workerId: String?, endedAt: Date, logFile: TagSelector? = nil) {
        self.attempt = attempt
        self.failure = failure
        self.message = message
        self.workerId = workerId
        self.endedAt = endedAt
        self.logFile = logFile
    }
}

/// When a failed attempt is tried again: at most `maxAttempts` attempts in all, for the failure kinds
/// in `retryOn`, after a backoff that grows with each attempt (with jitter), optionally with more
/// memory after running out of it or more time after a time limit (within the deployment's limits).
public struct RetryPolicy: Sendable, Codable, Hashable {
    /// Attempts in all, the first included (1: no retry).
    public var maxAttempts: Int
    /// The wait before the second attempt (default 10 s); each later wait is `backoffMultiplier` times
    /// the one before (default 2), at most `maxBackoffSeconds` (default 600), each ±20 % at random.
    public var backoffSeconds: Double?
    public var backoffMultiplier: Double?
    public var maxBackoffSeconds: Double?
    /// Which failures are retried (default: SIGNAL, TIMEOUT, OUT_OF_MEMORY; a lost worker's attempt
    /// is re-queued whatever the policy says, up to `metadata.maxWorkerLost` times).
    public var retryOn: [FailureKind]?
    /// After OUT_OF_MEMORY, the next attempt asks for this many times the memory (e.g. 2).
    public var memoryFactor: Double?
    /// After TIMEOUT, the next attempt gets this many times the run time (e.g. 2).
    public var runTimeFactor: Double?

    public init(
        maxAttempts: Int, backoffSeconds: Double? = nil, backoffMultiplier: Double? = nil, maxBackoffSeconds: Double? = nil,
        retryOn: [FailureKind]? = nil, memoryFactor: Double? = nil, runTimeFactor: Double? = nil
    ) {
        self.maxAttempts = maxAttempts
        self.backoffSeconds = backoffSeconds
        self.backoffMultiplier = backoffMultiplier
        self.maxBackoffSeconds = maxBackoffSeconds
        self.retryOn = retryOn
        self.memoryFactor = memoryFactor
        self.runTimeFactor = runTimeFactor
    }

    public static let maxAttemptsLimit = 20

    /// Whether a failure of attempt `attempt` (1-based) is tried again.
    public func retries(_ failure: FailureKind, afterAttempt attempt: Int) -> Bool {
        attempt < maxAttempts && (retryOn ?? FailureKind.retriedByDefault).contains(failure)
    }

    /// The wait after attempt `attempt` failed, before jitter.
    public func backoff(afterAttempt attempt: Int) -> Double {
        let base = backoffSeconds ?? 10
        let grown = base * pow(backoffMultiplier ?? 2, Double(max(0, attempt - 1)))
        return min(grown, maxBackoffSeconds ?? 600)
    }

    /// The problems of a policy, with their JSON paths under `prefix`.
    public func problems(at prefix: String) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        if !(1...Self.maxAttemptsLimit).contains(maxAttempts) {
            problems.append(FieldProblem(field: prefix + "maxAttempts", reason: "must be between 1 and \(Self.maxAttemptsLimit)"))
        }
        if let value = backoffSeconds, !(0...86_400).contains(value) {
            problems.append(FieldProblem(field: prefix + "backoffSeconds", reason: "must be between 0 and 86400"))
        }
        if let value = backoffMultiplier, !(1...10).contains(value) {
            problems.append(FieldProblem(field: prefix + "backoffMultiplier", reason: "must be between 1 and 10"))
        }
        if let value = maxBackoffSeconds, !(0...86_400).contains(value) {
            problems.append(FieldProblem(field: prefix + "maxBackoffSeconds", reason: "must be between 0 and 86400"))
        }
        if let kinds = retryOn, kinds.contains(.cancelled) {
            problems.append(FieldProblem(field: prefix + "retryOn", reason: "a cancelled job is never retried"))
        }
        if let kinds = retryOn, kinds.contains(.workerLost) {
            problems.append(
                FieldProblem(field: prefix + "retryOn", reason: "a lost worker's attempt is always re-queued (up to the deployment's metadata.maxWorkerLost); leave WORKER_LOST out"))
        }
        for (name, value) in [("memoryFactor", memoryFactor), ("runTimeFactor", runTimeFactor)] {
            if let value, !(1...8).contains(value) {
                problems.append(FieldProblem(field: prefix + name, reason: "must be between 1 and 8"))
            }
        }
        return problems
    }
}
