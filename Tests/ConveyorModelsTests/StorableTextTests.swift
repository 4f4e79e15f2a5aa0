import ConveyorModels
import Foundation
import Testing

/// What the store cannot keep is found where requests are decoded, with the path of each problem.
@Suite("Storable text")
struct StorableTextTests {
    @Test("a NUL in any string or key is found with its path; other text passes")
    func nul() throws {
        let json = try ConveyorJSON.decode(JSONValue.self, from: Data(#"{"a":["ok","x\u0000"],"b\u0000":1,"c":"é ☃ \u0001"}"#.utf8))
        let problems = StorableText.problems(in: json)
        #expect(problems.map(\.field) == ["a[1]", "b\u{0}"])
        #expect(StorableText.problem("plain \u{1} text") == nil)
    }

    @Test("nesting is counted outside strings and stops past the limit")
    func depth() {
        #expect(StorableText.depth(of: Data(#"{"a":"[[[[{{{{","b":[[1]]}"#.utf8)) == 3)
        #expect(StorableText.depth(of: Data(#"{"a":"\"[[[["}"#.utf8)) == 1)
        let deep = Data((String(repeating: "[", count: 1000) + String(repeating: "]", count: 1000)).utf8)
        #expect(StorableText.depth(of: deep) == StorableText.maxDepth + 1)
    }

    @Test("decoding refuses deep bodies, NULs, huge plain integers and instants outside years 1-9999")
    func decoding() {
        func problems(_ body: String, _ shape: JSONShape) -> [String] {
            do {
                _ = try ConveyorJSON.decode(JSONValue.self, from: Data(body.utf8), checking: shape)
                return []
            } catch let failure as ValidationFailure {
                return failure.problems.map { "\($0.field): \($0.reason)" }
            } catch { return ["\(error)"] }
        }
        #expect(problems(#"{"v":"x\u0000"}"#, .any).first?.hasPrefix("v: contains the NUL") == true)
        #expect(problems(String(repeating: "[", count: 65) + String(repeating: "]", count: 65), .any).first?.contains("deeper than 64") == true)
        #expect(problems(String(repeating: "[", count: 64) + String(repeating: "]", count: 64), .any).isEmpty)
        #expect(problems(#"{"n":12345678901234567890}"#, .map(.value)).first?.contains("DECIMAL") == true)
        #expect(problems(#"{"n":9007199254740}"#, .map(.value)).isEmpty)
        #expect(problems(#"{"t":{"type":"DATETIME","value":"0000-01-01T00:00:00Z"}}"#, .map(.value)).count == 1)
        #expect(problems(#"{"t":{"type":"DATETIME","value":"0001-01-01T00:00:00Z"}}"#, .map(.value)).isEmpty)
        #expect(Timestamp.parse("9999-12-31T23:59:59.999999Z") != nil)
        #expect(Timestamp.parse("9999-12-31T23:30:00-01:00") == nil)
    }
}
