import ConveyorModels
import Foundation
import HeapModule

/// How long jobs ran, learned from the jobs that succeeded: a moving average per model (or flow) and
/// per job type, for estimating when queued jobs start.
struct RunTimes: Sendable {
    private(set) var byModel: [UUID: Double] = [:]
    private(set) var byType: [JobType: Double] = [:]
    /// The weight of the newest run in the averages.
    static let weight = 0.3

    mutating func record(_ seconds: Double, type: JobType, model: UUID?) {
        func blend(_ old: Double?) -> Double { old.map { $0 + Self.weight * (seconds - $0) } ?? seconds }
        byType[type] = blend(byType[type])
        if let model { byModel[model] = blend(byModel[model]) }
    }

    /// The run time to expect of a job, and where it comes from.
    func estimate(type: JobType, model: UUID?, fallback: Double) -> (seconds: Double, basis: String) {
        if let model, let seconds = byModel[model] { return (seconds, "model") }
        if let seconds = byType[type] { return (seconds, "type") }
        return (fallback, "limit")
    }
}

/// What the scheduler can tell about its queue: where a queued job stands, when it is expected to
/// start, and a summary of queued and running work with the workers' capacity.
extension SchedulingState {
    /// The jobs simulated one by one for an estimate; the rest ahead count by the average.
    static let simulatedAhead = 2_000

    /// Where a queued job stands: how many jobs that compete for the same workers start before it,
    /// which, and when it is expected to start. Nil when the job is not queued here.
    ///
    /// One pass over the queue's heaps, group by group (a group's owner is ranked once; its jobs are
    /// looked up only when it holds stale entries), keeping only the `simulatedAhead` earliest jobs
    /// ahead in a bounded heap. Jobs still in a retry's backoff wait outside the heaps and are not ahead.
    public func position(of jobId: UUID, now: Date) -> QueuePosition? {
        guard let job = queued[jobId] else { return nil }
        let time = now.timeIntervalSince1970
        let live = workers.values.filter { !$0.draining && $0.isHeard(now: now, quiet: policy.quietWorkerSeconds) }
        let serving = live.filter { $0.jobTypes.contains(job.jobType) }
        // The job types that share a worker with this one compete with it.
        var competing: Set<JobType> = [job.jobType]
        for worker in serving { competing.formUnion(worker.jobTypes) }
        let mine = head(GroupKey(type: job.jobType, owner: job.owner), job, now: time)
        var first = Heap<Head>()  // the earliest ahead; its max is the latest of them
        var byOwner: [String: Int] = [:]
        var byType: [String: Int] = [:]
        var total = 0
        for (key, heap) in queues where competing.contains(key.type) {
            let usage = fairShare.rank(key.owner)
            let stale = staleEntries[key] != nil
            var count = 0
            for entry in heap.unordered where entry.jobId != jobId {
                if stale {
                    guard let other = queued[entry.jobId], other.attempt == entry.attempt else { continue }
                }
                let band = policy.effectivePriority(priority: entry.priority, submittedAt: entry.submittedAt, now: time).rounded(.down)
                if band < mine.band { continue }
                if band == mine.band, usage >= mine.usage {
                    if usage > mine.usage || entry.submittedAt > mine.submittedAt { continue }
                    if entry.submittedAt == mine.submittedAt, entry.jobId.uuidString >= jobId.uuidString { continue }
                }
                count += 1
                let place = Head(band: band, usage: usage, submittedAt: entry.submittedAt, jobId: entry.jobId, key: key)
                if first.count < Self.simulatedAhead {
                    first.insert(place)
                } else if place < first.max! {
                    _ = first.replaceMax(with: place)
                }
            }
            guard count > 0 else { continue }
            total += count
            byOwner[key.owner, default: 0] += count
            byType[key.type.rawValue, default: 0] += count
        }
        var earliest: [QueuedJob] = []
        earliest.reserveCapacity(first.count)
        while let place = first.popMin() { earliest.append(queued[place.jobId]!) }
        let estimate = serving.isEmpty ? nil : estimateStart(of: job, after: earliest, aheadTotal: total, on: serving, now: time)
        return QueuePosition(
            position: total + 1,
            ahead: QueueAhead(total: total, byOwner: byOwner, byType: byType, first: earliest.prefix(10).map(\.jobId)),
            estimatedStartAt: estimate.map { Date(timeIntervalSince1970: max(time, job.notBefore ?? 0, $0.at)) }, estimateBasis: estimate?.basis,
            waitingReason: waitingReason(jobId), notBefore: job.notBefore.map { Date(timeIntervalSince1970: $0) },
            effectivePriority: policy.effectivePriority(priority: job.priority, submittedAt: job.submittedAt, now: time))
    }

    /// When `job` is expected to start on `workers`: the jobs ahead are placed one by one, each on the
    /// worker where it fits soonest as the running jobs end (at their expected ends: the run time
    /// observed of the same model, else of the job type, else its time limit); jobs ahead beyond those
    /// simulated add the average wait they cause.
    private func estimateStart(
        of job: QueuedJob, after ahead: [QueuedJob], aheadTotal: Int, on workers: [Worker], now: Double
    ) -> (at: Double, basis: String) {
        func duration(_ type: JobType, _ model: UUID?, _ resources: ResourceRequirements?) -> (Double, String) {
            runTimes.estimate(type: type, model: model, fallback: policy.expectedRunSeconds(resources, type: type))
        }
        // Each worker: its capacity and the (end, request) of what runs on it.
        var ends: [String: [(end: Double, request: ResourceAmount)]] = [:]
        for assignment in assignments.values where workers.contains(where: { $0.id == assignment.workerId }) {
            let (seconds, _) = duration(assignment.jobType, assignment.modelId, assignment.resources)
            let end = max(now + 0.001, assignment.since.timeIntervalSince1970 + seconds)
            ends[assignment.workerId, default: []].append((end, assignment.request))
        }
        var bases: Set<String> = []
        func place(_ queued: QueuedJob) -> Double? {
            let request = policy.request(queued.resources, type: queued.jobType)
            var best: (worker: String, at: Double)?
            for worker in workers where worker.jobTypes.contains(queued.jobType) && request.fits(in: worker.capacity) {
                let running = (ends[worker.id] ?? []).sorted { $0.end < $1.end }
                var free = worker.capacity - running.reduce(.zero) { $0 + $1.request }
                var at = now
                var next = 0
                while !request.fits(in: free), next < running.count {
                    free += running[next].request
                    at = running[next].end
                    next += 1
                }
                guard request.fits(in: free) else { continue }
                if best == nil || at < best!.at { best = (worker.id, at) }
            }
            guard let best else { return nil }
            let (seconds, basis) = duration(queued.jobType, queued.modelId, queued.resources)
            bases.insert(basis)
            ends[best.worker, default: []].append((best.at + seconds, request))
            return best.at
        }
        for queued in ahead { _ = place(queued) }
        guard var at = place(job) else { return (now, "no worker has room for it") }
        let beyond = aheadTotal - ahead.count
        if beyond > 0 {
            // The jobs ahead that were not placed one by one: their average run time over the slots.
            let slots = max(1, workers.reduce(0) { $0 + $1.capacity.slots })
            let average = ahead.isEmpty ? duration(job.jobType, job.modelId, job.resources).0
                : ahead.reduce(0.0) { $0 + duration($1.jobType, $1.modelId, $1.resources).0 } / Double(ahead.count)
            at += Double(beyond) * average / Double(slots)
        }
        let words = ["model": "run times observed of the same models", "type": "run times observed of the same job types", "limit": "time limits"]
        let basis = ["model", "type", "limit"].filter(bases.contains).compactMap { words[$0] }.joined(separator: ", ")
        return (at, "\(ahead.count) jobs ahead placed on \(workers.count) workers by \(basis.isEmpty ? "nothing yet" : basis)"
            + (beyond > 0 ? "; \(beyond) more by their average" : ""))
    }

    /// Queued and running jobs per job type and owner, and the live workers' capacity with what is in use.
    public func summary(now: Date) -> QueueSummary {
        var types: [String: QueueSummary.Counts] = [:]
        var owners: [String: QueueSummary.Owner] = [:]
        for job in queued.values {
            types[job.jobType.rawValue, default: .init(queued: 0, running: 0)].queued += 1
            owners[job.owner, default: .init(queued: 0, running: 0, recentCpuSeconds: 0)].queued += 1
        }
        for assignment in assignments.values {
            types[assignment.jobType.rawValue, default: .init(queued: 0, running: 0)].running += 1
            owners[assignment.owner, default: .init(queued: 0, running: 0, recentCpuSeconds: 0)].running += 1
        }
        for owner in owners.keys { owners[owner]?.recentCpuSeconds = fairShare.usage(owner, now: now.timeIntervalSince1970) }
        let live = workers.values.filter { !$0.draining && $0.isHeard(now: now, quiet: policy.quietWorkerSeconds) }
        func bounded(_ value: Int) -> Int { value >= ResourceAmount.unbounded ? 0 : value }
        var capacity = QueueSummary.Resources(cpus: 0, memoryMB: 0, gpus: 0, slots: 0)
        var inUse = capacity
        for worker in live {
            capacity.cpus += bounded(worker.capacity.cpus)
            capacity.memoryMB += bounded(worker.capacity.memoryMB)
            capacity.gpus += bounded(worker.capacity.gpus)
            capacity.slots += worker.capacity.slots
            let taken = used[worker.id] ?? .zero
            inUse.cpus += taken.cpus
            inUse.memoryMB += taken.memoryMB
            inUse.gpus += taken.gpus
            inUse.slots += taken.slots
        }
        return QueueSummary(types: types, owners: owners, workers: live.count, capacity: capacity, inUse: inUse, at: now)
    }
}

extension SchedulingState {
    /// When the longest-waiting queued job of each type was submitted (seconds since 1970), for the
    /// oldest-wait metric: one pass over the queued jobs.
    public func oldestSubmitted() -> [JobType: Double] {
        var oldest: [JobType: Double] = [:]
        for job in queued.values where job.submittedAt < oldest[job.jobType, default: .infinity] {
            oldest[job.jobType] = job.submittedAt
        }
        return oldest
    }
}
