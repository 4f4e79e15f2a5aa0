/// A named set of settings a deployment offers the models it runs (IXMP's execution profiles):
/// environment variables, the Python interpreter, what a job asks for when it does not say, and the
/// most it may ask for. A job names one in `profile` (RUN_MODEL and RUN_FLOW); metadata refuses an
/// unknown one and requests beyond its limits, and fills in its defaults at submission (so the
/// scheduler packs by them); the runner applies its environment and interpreter.
public struct ExecutionProfile: Sendable, Codable, Hashable {
    public var name: String
    /// Variables set for the model (over the platform's own `CONVEYOR_*` ones they cannot win).
    public var environment: [String: String]
    /// The interpreter of `python` models (default `python3` on the runner's PATH).
    public var python: String?
    /// What a job with this profile asks for when it does not say.
    public var defaults: ResourceRequirements
    /// The most a job with this profile may ask for.
    public var limits: ResourceRequirements

    public init(
        name: String, environment: [String: String] = [:], python: String? = nil, defaults: ResourceRequirements = ResourceRequirements(),
        limits: ResourceRequirements = ResourceRequirements()
    ) {
        self.name = name
        self.environment = environment
        self.python = python
        self.defaults = defaults
        self.limits = limits
    }

    /// Profile names: lowercase letters, digits and '-' (they appear in environment variable names).
    public static func nameProblem(_ name: String) -> String? {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first), name.count <= 40,
            name.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" })
        else { return "profile names are 1-40 lowercase letters, digits or '-', starting with a letter" }
        return nil
    }

    /// The job's requests beyond this profile's limits, with paths under `field`.
    public func problems(_ resources: ResourceRequirements?, field: String) -> [FieldProblem] {
        var problems: [FieldProblem] = []
        func check(_ value: Int?, _ limit: Int?, _ name: String, _ unit: String) {
            if let value, let limit, value > limit {
                problems.append(FieldProblem(field: "\(field).\(name)", reason: "profile '\(self.name)' allows at most \(limit)\(unit)"))
            }
        }
        check(resources?.cpus, limits.cpus, "cpus", " cpus")
        check(resources?.memoryMB, limits.memoryMB, "memoryMB", " MB")
        check(resources?.gpus, limits.gpus, "gpus", " gpus")
        check(resources?.maxRunSeconds, limits.maxRunSeconds, "maxRunSeconds", " seconds")
        return problems
    }

    /// The job's `resources` with this profile's defaults where it asks for nothing.
    public func filling(_ resources: ResourceRequirements?) -> ResourceRequirements? {
        let filled = ResourceRequirements(
            cpus: resources?.cpus ?? defaults.cpus, memoryMB: resources?.memoryMB ?? defaults.memoryMB,
            gpus: resources?.gpus ?? defaults.gpus, maxRunSeconds: resources?.maxRunSeconds ?? defaults.maxRunSeconds)
        return filled == ResourceRequirements() ? resources : filled
    }
}

extension JobDefinition {
    /// The definition with its profile's resource defaults filled in, and those of its group's jobs.
    public func fillingProfileDefaults(_ profiles: [String: ExecutionProfile]) -> JobDefinition {
        var definition = self
        if let name = profile, let profile = profiles[name] { definition.resources = profile.filling(resources) }
        if var group = definition.jobGroup {
            group.jobs = group.jobs.map { $0.fillingProfileDefaults(profiles) }
            definition.jobGroup = group
        }
        return definition
    }
}
