import Foundation
import Testing

/// `docs/asyncapi.yaml` keeps up with the code: every message type the code sends and every field
/// of every message struct is in it (or in the `openapi.yaml` schemas it refers to). A field or
/// message added to `Shared/ConveyorModels/Messages/` without its contract fails here.
@Suite("Message contract document")
struct MessageContractDocumentTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func read(_ relative: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8)
    }

    /// The message sources: file name → its text.
    static func sources() throws -> [(String, String)] {
        let folder = root.appendingPathComponent("Shared/ConveyorModels/Messages")
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".swift") }.sorted().map {
            ($0, try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8))
        }
    }

    /// Whether `document` has `name` as a key (a line `<indent>name:`).
    static func hasKey(_ name: String, in document: String) -> Bool {
        document.split(separator: "\n").contains { line in
            let trimmed = line.drop { $0 == " " || $0 == "-" }
            return trimmed.hasPrefix(name + ":") || trimmed.hasPrefix("\"" + name + "\":")
        }
    }

    @Test("every message type the code declares is a message of the AsyncAPI document")
    func messageTypes() throws {
        let document = try Self.read("docs/asyncapi.yaml")
        let pattern = try NSRegularExpression(pattern: #"static let (?:messageType|batchRowType) = "([^"]+)""#)
        var found = 0
        for (file, text) in try Self.sources() {
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let type = String(text[Range(match.range(at: 1), in: text)!])
                found += 1
                #expect(document.contains("name: \(type)") || document.contains("const: \(type)"), "\(file): message type \(type) is not in docs/asyncapi.yaml")
            }
        }
        #expect(found >= 4)
    }

    @Test("every stored field of every message struct is documented")
    func fields() throws {
        let asyncapi = try Self.read("docs/asyncapi.yaml")
        let openapi = try Self.read("docs/openapi.yaml")
        // Stored properties only: a computed one has `{` on its line.
        let pattern = try NSRegularExpression(pattern: #"^\s+public (?:var|let) (\w+)\s*:\s*[^{=\n]+$"#, options: .anchorsMatchLines)
        var checked = 0
        for (file, text) in try Self.sources() {
            for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                let name = String(text[Range(match.range(at: 1), in: text)!])
                checked += 1
                #expect(
                    Self.hasKey(name, in: asyncapi) || Self.hasKey(name, in: openapi),
                    "\(file): field \(name) is in neither docs/asyncapi.yaml nor the openapi.yaml schemas it refers to")
            }
        }
        #expect(checked >= 50)
    }
}
