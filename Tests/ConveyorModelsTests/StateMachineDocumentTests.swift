import ConveyorModels
import Foundation
import Testing

/// The table of legal transitions in `docs/architecture.md` is the one in code.
@Suite("State machine documentation")
struct StateMachineDocumentTests {
    @Test("docs/architecture.md lists exactly JobStatus.allowedNext for every status")
    func table() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("docs/architecture.md"), encoding: .utf8)
        var documented: [JobStatus: Set<JobStatus>] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("|") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "`", with: "") }
            guard cells.count >= 2, let from = JobStatus(rawValue: cells[0]) else { continue }
            documented[from] = Set(cells[1].split(separator: ",").compactMap { JobStatus(rawValue: $0.trimmingCharacters(in: .whitespaces)) })
        }
        for status in JobStatus.allCases {
            #expect(documented[status] == status.allowedNext, "\(status.rawValue) in docs/architecture.md")
        }
    }
}
