import ConveyorModels
import Foundation

/// Which jobs a re-run downstream of a newer input version runs again, as pure decisions
/// (``JobStore/rerunDownstream(_:)`` finds the jobs that read the object and writes what these
/// rules say).
///
/// A job read the object when one of its inputs (of `runModel`, `runFlow`, `importData` or
/// `exportData`) names it. It runs again, reading the latest version, when it has ended and read an
/// older one; one that already read the latest is kept; one that has not ended is left.
enum RerunDownstreamRules {
    enum Verdict: Equatable {
        /// Input name → the version the job read.
        case rerun(readVersions: [String: Int])
        case current
        case active
    }

    static func verdict(_ record: JobRecord, objectId: UUID, latestVersion: Int) -> Verdict {
        guard record.status.isTerminal else { return .active }
        var read: [String: Int] = [:]
        forEachInput(of: record.definition) { name, selector in
            if selector.objectId == objectId, let version = selector.objectVersion, version < latestVersion { read[name] = version }
        }
        return read.isEmpty ? .current : .rerun(readVersions: read)
    }

    /// The definition of a job run again on the latest version: its recorded (pinned) definition with
    /// every input that named the object pinned to `latest`, the outputs the platform filled in
    /// cleared and no idempotency key. A flow runs whole (what it kept before was computed from the
    /// older version).
    static func definition(_ original: JobDefinition, latest: TagSelector) -> JobDefinition {
        var definition = original.clearingOutputs()
        definition.idempotencyKey = nil
        definition.runFlow?.reuse = nil
        forEachInput(of: &definition) { _, selector in
            if selector.objectId == latest.objectId { selector = latest }
        }
        return definition
    }

    /// Every input of a definition, named `section.inputs.name` as its JSON path reads.
    static func forEachInput(of definition: JobDefinition, _ body: (String, TagSelector) -> Void) {
        var copy = definition
        forEachInput(of: &copy) { name, selector in body(name, selector) }
    }

    static func forEachInput(of definition: inout JobDefinition, _ body: (String, inout TagSelector) -> Void) {
        func each(_ inputs: [String: TagSelector]?, _ section: String) -> [String: TagSelector]? {
            guard var all = inputs else { return nil }
            for name in all.keys.sorted() { body("\(section).inputs.\(name)", &all[name]!) }
            return all
        }
        if let inputs = definition.runModel?.inputs { definition.runModel?.inputs = each(inputs, "runModel") }
        if let inputs = definition.runFlow?.inputs { definition.runFlow?.inputs = each(inputs, "runFlow") }
        if let inputs = definition.importData?.inputs { definition.importData?.inputs = each(inputs, "importData") }
        if let inputs = definition.exportData?.inputs { definition.exportData?.inputs = each(inputs, "exportData") ?? [:] }
    }
}
