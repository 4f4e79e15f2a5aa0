import ConveyorModels
import Foundation
import Hummingbird
import Messaging
import ServiceKit

/// `GET /api/v1/events?owner=`: the caller's job status changes as server-sent events (`job`
/// events whose `id` is the change's event id), from when the stream opens; with `Last-Event-ID`
/// (or `?after=`), first every change after that id, read from metadata, so a client that
/// reconnects (to any gateway, also after a restart) misses nothing. A resumed stream repeats the
/// changes of the `JobEventFeed.overlapMicros` (2 s) before that id: clients drop ids they have.
/// A user follows their own jobs; operators and admins everyone's, or `owner`'s.
///
/// Every 2 s it also looks at the followed jobs (``FollowedJobs``: those queued or running when it
/// opened, and those that become so): `queue` events for queued jobs whose place or expected start
/// changed (from the scheduler), `log` events for running jobs whose log grew (from metadata).
/// These carry no id: they are the state now, sent again after a reconnect.
struct EventStream: Sendable {
    let metadata: MetadataClient
    let scheduler: SchedulerClient
    let feed: JobEventFeed

    @Sendable func follow(request: Request, context: GatewayContext) async throws -> Response {
        var query = QueryReader(request)
        let requestedOwner = query.string("owner")
        var resume = query.string("after")
        if let header = request.headers[.init("Last-Event-ID")!] { resume = header }
        if let resume, JobStatusChange.cursor(resume) == nil {
            query.problems.append(FieldProblem(field: "Last-Event-ID", reason: "must be an id this stream sent (<microseconds>_<job id>_<position>)"))
        }
        try query.check()
        let owner = try AccessPolicy.listOwner(requested: requestedOwner, as: try context.caller())
        let (metadata, scheduler, feed, resumeAfter) = (self.metadata, self.scheduler, self.feed, resume)
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache", .init("X-Accel-Buffering")!: "no"],
            body: ResponseBody { writer in
                // Live changes are gathered from now on, before the missed ones are read.
                let (id, items) = await feed.follow(owner: owner)
                do {
                    try await writer.write(ByteBuffer(string: "retry: 2000\n: following job changes\n\n"))
                    var followed = FollowedJobs()
                    // The jobs queued or running now, newest last (changes from here on update them).
                    if let active = try? await metadata.call(
                        ListJobs(limit: FollowedJobs.limit, statuses: [.queued, .submitted, .running], owner: owner, sort: .submittedAt, descending: true))
                    {
                        for job in active.jobs.reversed() { followed.apply(jobId: job.jobId, status: job.status) }
                    }
                    var sent: [String: Int64] = [:]
                    if let resumeAfter, let position = JobStatusChange.cursor(resumeAfter) {
                        var after = JobStatusChange.eventId(micros: max(0, position.micros - JobEventFeed.overlapMicros))
                        while true {
                            let page = try await metadata.callRetrying(
                                ListJobChanges(after: after, owner: owner, limit: ListJobChanges.maxLimit), patience: .seconds(30))
                            for change in page.changes {
                                sent[change.eventId] = JobStatusChange.cursor(change.eventId)?.micros
                                try await writer.write(ByteBuffer(string: try Self.event(change)))
                            }
                            guard page.changes.count == ListJobChanges.maxLimit, let next = page.changes.last?.eventId else { break }
                            after = next
                        }
                    }
                    for await item in items {
                        switch item {
                        case .keepAlive:
                            try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                        case .change(let change):
                            followed.apply(jobId: change.jobId, status: change.status)
                            if sent.removeValue(forKey: change.eventId) != nil { continue }
                            try await writer.write(ByteBuffer(string: try Self.event(change)))
                        case .look:
                            for event in await Self.look(&followed, metadata: metadata, scheduler: scheduler) {
                                try await writer.write(ByteBuffer(string: event))
                            }
                        }
                        if sent.count > 50_000 { sent.removeAll() }
                    }
                } catch {
                    await feed.stop(id)
                    throw error
                }
                await feed.stop(id)
                try await writer.finish(nil)
            })
    }

    static func event(_ change: JobStatusChange) throws -> String {
        LogStream.event("job", id: change.eventId, data: String(decoding: try ConveyorJSON.encode(change), as: UTF8.self))
    }

    /// The `queue` and `log` events of one look at the followed jobs. A look that fails (the
    /// scheduler or metadata away) sends nothing; the next one tries again.
    static func look(_ followed: inout FollowedJobs, metadata: MetadataClient, scheduler: SchedulerClient) async -> [String] {
        var events: [String] = []
        if !followed.queued.isEmpty,
            let answer = try? await scheduler.call(GetQueuePositions(jobIds: Array(followed.queued.suffix(GetQueuePositions.maxJobs))), timeout: .seconds(2))
        {
            for update in followed.queueEvents(answer) {
                if let data = try? ConveyorJSON.encode(update) { events.append(LogStream.event("queue", data: String(decoding: data, as: UTF8.self))) }
            }
        }
        if !followed.running.isEmpty, let answer = try? await metadata.call(GetLogSizes(jobIds: followed.running), timeout: .seconds(2)) {
            for update in followed.logEvents(answer) {
                if let data = try? ConveyorJSON.encode(update) { events.append(LogStream.event("log", data: String(decoding: data, as: UTF8.self))) }
            }
        }
        return events
    }
}
