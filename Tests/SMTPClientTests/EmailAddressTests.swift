import Testing

@testable import SMTPClient

@Suite("EmailAddress")
struct EmailAddressTests {
    @Test func acceptsPlainAddressAndName() throws {
        let address = try EmailAddress(name: "Jane Doe", address: "jane@example.com")
        #expect(address.name == "Jane Doe")
        #expect(address.address == "jane@example.com")
        #expect(address.domain == "example.com")
    }

    @Test(arguments: [
        "no-at-sign", "a@@b", "@example.com", "jane@", "a@b@c", "", "jane doe@example.com", "j<a>@x",
        // International addresses, lists, literals and hidden line breaks are refused, not half-sent.
        "jöhn@exämple.com", "用户@例子.广告", "a,b@example.com", "a@[127.0.0.1]", "a\u{85}Bcc: x@example.com",
        "a@example.com\u{2028}Bcc: x@example.com", ".jane@example.com", "ja..ne@example.com", "jane@-example.com",
        "jane@exa_mple.com", "jane@example..com",
    ])
    func rejectsMalformedAddresses(_ text: String) {
        let error = #expect(throws: SMTPError.self) { try EmailAddress(address: text) }
        #expect(error?.code == .invalidAddress)
        #expect(error?.field == "address")
    }

    @Test(arguments: ["o'brien+tag@example.co.uk", "x@localhost", "a.b-c_d@xn--exmple-cua.com", "#!$%&'*+-/=?^_`{|}~@example.com"])
    func acceptsDeliverableAddresses(_ text: String) throws {
        #expect(try EmailAddress(address: text).address == text)
    }

    @Test(arguments: ["jane\r@example.com", "jane@example.com\n", "jane\0@example.com", "ja\r\nne@example.com"])
    func rejectsLineBreaksInAddress(_ text: String) {
        let error = #expect(throws: SMTPError.self) { try EmailAddress(name: "Jane", address: text) }
        #expect(error?.code == .invalidAddress)
        #expect(error?.field == "address")
        #expect(error?.description.contains("address") == true)
    }

    @Test(arguments: ["Jane\r\nBcc: evil@example.com", "Jane\n", "Jane\r", "Ja\0ne"])
    func rejectsLineBreaksInName(_ name: String) {
        let error = #expect(throws: SMTPError.self) { try EmailAddress(name: name, address: "jane@example.com") }
        #expect(error?.code == .invalidAddress)
        #expect(error?.field == "name")
    }

    @Test func parsesNameAndAngleAddress() throws {
        let address = try EmailAddress(parsing: "  Jane Doe <jane@example.com> ")
        #expect(address == (try EmailAddress(name: "Jane Doe", address: "jane@example.com")))
    }

    @Test func parsesQuotedName() throws {
        let address = try EmailAddress(parsing: #""Doe, \"JD\" Jane" <jane@example.com>"#)
        #expect(address.name == #"Doe, "JD" Jane"#)
        #expect(address.address == "jane@example.com")
    }

    @Test func parsesBareAndBracketedAddresses() throws {
        #expect(try EmailAddress(parsing: "jane@example.com") == EmailAddress(address: "jane@example.com"))
        let bracketed = try EmailAddress(parsing: "<jane@example.com>")
        #expect(bracketed.name == nil)
        #expect(bracketed.address == "jane@example.com")
    }

    @Test(arguments: ["Jane <jane@example.com", "Jane <>", "Jane <jane>", "Jane\n<jane@example.com>"])
    func parsingRejectsInvalidInput(_ text: String) {
        let error = #expect(throws: SMTPError.self) { try EmailAddress(parsing: text) }
        #expect(error?.code == .invalidAddress)
    }
}
