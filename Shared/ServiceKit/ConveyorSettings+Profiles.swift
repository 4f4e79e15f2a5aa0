import ConveyorModels

extension ConveyorSettings {
    /// The execution profiles (``ExecutionProfile``): `profiles.names` (comma-separated), and per
    /// name `profiles.<name>.environment` (comma-separated `NAME=value`), `.python`, the defaults
    /// `.cpus`, `.memoryMB`, `.gpus`, `.maxRunSeconds`, and the limits `.limits.cpus`,
    /// `.limits.memoryMB`, `.limits.gpus`, `.limits.maxRunSeconds` (0 or absent: none). Read the same
    /// by metadata (validation, defaults) and the runner (environment, interpreter). A name that is
    /// not a valid profile name is skipped.
    public var executionProfiles: [String: ExecutionProfile] {
        var profiles: [String: ExecutionProfile] = [:]
        let names = string("profiles.names", default: "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for name in names where !name.isEmpty && ExecutionProfile.nameProblem(name) == nil {
            let prefix = "profiles.\(name)."
            func value(_ key: String) -> Int? {
                let number = int(prefix + key, default: 0)
                return number > 0 ? number : nil
            }
            var environment: [String: String] = [:]
            for pair in string(prefix + "environment", default: "").split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { continue }
                environment[parts[0].trimmingCharacters(in: .whitespaces)] = String(parts[1])
            }
            let python = string(prefix + "python", default: "")
            profiles[name] = ExecutionProfile(
                name: name, environment: environment, python: python.isEmpty ? nil : python,
                defaults: ResourceRequirements(cpus: value("cpus"), memoryMB: value("memoryMB"), gpus: value("gpus"), maxRunSeconds: value("maxRunSeconds")),
                limits: ResourceRequirements(
                    cpus: value("limits.cpus"), memoryMB: value("limits.memoryMB"), gpus: value("limits.gpus"),
                    maxRunSeconds: value("limits.maxRunSeconds")))
        }
        return profiles
    }
}
