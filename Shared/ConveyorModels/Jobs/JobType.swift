/// TRAC's job types. Which of them a deployment runs is decided by the workers it has.
public enum JobType: String, Sendable, Codable, CaseIterable, Hashable {
    case importModel = "IMPORT_MODEL"
    case importData = "IMPORT_DATA"
    case exportData = "EXPORT_DATA"
    case runModel = "RUN_MODEL"
    case runFlow = "RUN_FLOW"
    case jobGroup = "JOB_GROUP"

    /// The job types this release can execute end to end: all of them (the importer runs IMPORT_MODEL
    /// and IMPORT_DATA, the runner RUN_MODEL and RUN_FLOW, the exporter EXPORT_DATA; metadata itself
    /// runs JOB_GROUP by submitting its jobs).
    public static let executable: Set<JobType> = Set(allCases)

    /// The routing-key segment used for this type in event keys (`job.<status>.<type>`).
    public var routingSegment: String { rawValue.lowercased() }
}
