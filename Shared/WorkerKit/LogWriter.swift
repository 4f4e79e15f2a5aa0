import Messaging
import ServiceKit
import ConveyorModels
import Foundation

/// Streams a job's log to metadata as ordered chunks with byte offsets while the job runs.
///
/// Writes are buffered and sent when 32 KiB have gathered or at the next 200 ms tick, so a chatty
/// job does not send a message per line and a quiet one still shows progress. Flushes
/// never overlap: a flush waits for the one in progress, so chunks go out in order, and a flush
/// that returns means everything written before it was confirmed by the broker. What is left when
/// the attempt ends travels in its finished report (``takeRest()``): a short job sends no log
/// report at all.
///
/// The log is cut at `cap` bytes (``LogCap``): what comes after is counted and dropped, and one
/// marker line says so, so a model that prints without end costs the worker neither memory nor
/// messages.
public actor JobLogWriter {
    private let jobId: UUID
    private let attempt: Int
    private let workerId: String
    private let reports: ReportSender
    private let cap: Int
    private var buffer = Data()
    private var offset = 0
    /// Bytes written in all (also those dropped past the cap).
    private var written = 0
    /// Whether the log reached the cap (the marker is in it; later bytes are dropped).
    public private(set) var truncated = false
    private var flushing = false
    private var flushWaiters: [CheckedContinuation<Void, Never>] = []
    static let chunkSize = 32 * 1024

    public init(jobId: UUID, attempt: Int, workerId: String, reports: ReportSender, cap: Int = 8 * 1024 * 1024) {
        self.jobId = jobId
        self.attempt = attempt
        self.workerId = workerId
        self.reports = reports
        self.cap = cap
    }

    /// The bytes written so far (also those dropped past the cap).
    public var size: Int { written }

    /// Appends bytes to the log; a full chunk is sent at once, the rest by ``flushPeriodically()``.
    public func write(_ data: Data) async {
        written += data.count
        if truncated { return }
        let room = cap - (offset + buffer.count)
        if data.count <= room {
            buffer.append(data)
        } else {
            // Cut at the cap, with the marker there, as metadata would cut it.
            buffer.append(data.prefix(max(0, room)))
            buffer.append(LogCap.marker(cap: cap))
            truncated = true
        }
        if buffer.count >= Self.chunkSize {
            await flush()
        }
    }

    /// Sends what was written every 200 ms until the calling task is cancelled, so a quiet job
    /// still shows its progress.
    public func flushPeriodically() async {
        while (try? await Task.sleep(for: .milliseconds(200))) != nil {
            if !buffer.isEmpty { await flush() }
        }
    }

    /// Sends what the running model says of itself now (a `progress` report; metadata keeps the
    /// latest for the running attempt).
    public func progress(_ state: AttemptProgress) async {
        await reports.send(JobReport(jobId: jobId, attempt: attempt, workerId: workerId, kind: .progress(state)))
    }

    /// Appends a line of text.
    public func line(_ text: String) async {
        await write(Data((text + "\n").utf8))
    }

    /// The part of the log not sent yet (after any flush in progress), for the finished report;
    /// later writes are not expected.
    public func takeRest() async -> LogChunk? {
        while flushing {
            await withCheckedContinuation { flushWaiters.append($0) }
        }
        guard !buffer.isEmpty else { return nil }
        let rest = LogChunk(offset: offset, data: buffer)
        offset += buffer.count
        buffer = Data()
        return rest
    }

    /// Sends everything buffered and waits until the broker confirmed it.
    public func flush() async {
        while flushing {
            await withCheckedContinuation { flushWaiters.append($0) }
        }
        flushing = true
        defer {
            flushing = false
            let waiters = flushWaiters
            flushWaiters = []
            waiters.forEach { $0.resume() }
        }
        while !buffer.isEmpty {
            let chunk = buffer.prefix(Self.chunkSize)
            let report = JobReport(
                jobId: jobId, attempt: attempt, workerId: workerId,
                kind: .log(LogChunk(offset: offset, data: Data(chunk))))
            buffer.removeFirst(chunk.count)
            offset += chunk.count
            await reports.send(report)
        }
    }
}
