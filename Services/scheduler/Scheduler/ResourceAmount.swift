import ConveyorModels

/// An amount of what a job uses on a worker: cpus, memory, gpus, and one slot (the worker's bound
/// on jobs at once). A worker's capacity and the sum of its running jobs are amounts too.
public struct ResourceAmount: Sendable, Hashable, CustomStringConvertible {
    public var cpus: Int
    public var memoryMB: Int
    public var gpus: Int
    public var slots: Int

    public init(cpus: Int, memoryMB: Int, gpus: Int = 0, slots: Int = 1) {
        self.cpus = cpus
        self.memoryMB = memoryMB
        self.gpus = gpus
        self.slots = slots
    }

    public static let zero = ResourceAmount(cpus: 0, memoryMB: 0, gpus: 0, slots: 0)
    /// What a worker that does not say its capacity offers: its slots bound it, nothing else.
    static let unbounded = Int.max / 4

    /// Every part is at most the other's.
    public func fits(in available: ResourceAmount) -> Bool {
        cpus <= available.cpus && memoryMB <= available.memoryMB && gpus <= available.gpus && slots <= available.slots
    }

    public static func + (lhs: ResourceAmount, rhs: ResourceAmount) -> ResourceAmount {
        ResourceAmount(cpus: lhs.cpus + rhs.cpus, memoryMB: lhs.memoryMB + rhs.memoryMB, gpus: lhs.gpus + rhs.gpus, slots: lhs.slots + rhs.slots)
    }

    public static func - (lhs: ResourceAmount, rhs: ResourceAmount) -> ResourceAmount {
        ResourceAmount(cpus: lhs.cpus - rhs.cpus, memoryMB: lhs.memoryMB - rhs.memoryMB, gpus: lhs.gpus - rhs.gpus, slots: lhs.slots - rhs.slots)
    }

    public static func += (lhs: inout ResourceAmount, rhs: ResourceAmount) { lhs = lhs + rhs }
    public static func -= (lhs: inout ResourceAmount, rhs: ResourceAmount) { lhs = lhs - rhs }

    /// The largest share of `capacity` any part takes (a job's "dominant share" of a worker): what
    /// packing minimises, so a worker is filled on the resource it has least of.
    func dominantShare(of capacity: ResourceAmount) -> Double {
        func share(_ used: Int, _ total: Int) -> Double { total <= 0 || total >= Self.unbounded ? 0 : Double(used) / Double(total) }
        return max(share(cpus, capacity.cpus), share(memoryMB, capacity.memoryMB), share(gpus, capacity.gpus), share(slots, capacity.slots))
    }

    /// The parts where this amount is more than `available`, in words (for a job that cannot start).
    func shortfall(in available: ResourceAmount) -> String {
        var parts: [String] = []
        if cpus > available.cpus { parts.append("\(cpus) cpus (at most \(available.cpus))") }
        if memoryMB > available.memoryMB { parts.append("\(memoryMB) MB of memory (at most \(available.memoryMB))") }
        if gpus > available.gpus { parts.append("\(gpus) gpus (at most \(available.gpus))") }
        return parts.joined(separator: ", ")
    }

    public var description: String { "\(cpus) cpus, \(memoryMB) MB, \(gpus) gpus, \(slots) slots" }
}

extension ResourceAmount {
    /// A worker's capacity from its heartbeat: its resources (unbounded when it does not say) and slots.
    init(_ capacity: WorkerCapacity?, slots: Int) {
        self.init(
            cpus: capacity?.cpus ?? Self.unbounded, memoryMB: capacity?.memoryMB ?? Self.unbounded, gpus: capacity?.gpus ?? Self.unbounded,
            slots: slots)
    }
}
