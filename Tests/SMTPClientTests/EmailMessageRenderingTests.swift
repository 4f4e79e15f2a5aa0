import Foundation
import Testing

@testable import SMTPClient

@Suite("EmailMessage rendering")
struct EmailMessageRenderingTests {
    static let fixedDate = Date(timeIntervalSince1970: 1_795_254_767)  // Sat, 21 Nov 2026 09:52:47 UTC

    func message(
        subject: String = "Job finished", text: String = "Hello\nWorld\n", html: String? = nil,
        messageID: String? = nil, headers: [(String, String)] = []
    ) throws -> EmailMessage {
        EmailMessage(
            from: try EmailAddress(name: "Conveyor", address: "noreply@conveyor.example"),
            to: [try EmailAddress(name: "Jane Doe", address: "jane@example.com"), try EmailAddress(address: "ops@example.com")],
            subject: subject, textBody: text, htmlBody: html, messageID: messageID, date: Self.fixedDate,
            headers: headers)
    }

    @Test func rendersStandardHeaders() throws {
        let rendered = try message(messageID: "job-42@conveyor.example").rendered()
        let parsed = ParsedMessage(rendered)
        #expect(parsed.header("Date") == "Sat, 21 Nov 2026 09:52:47 +0000")
        #expect(parsed.header("Message-ID") == "<job-42@conveyor.example>")
        #expect(parsed.header("From") == "Conveyor <noreply@conveyor.example>")
        #expect(parsed.header("To") == "Jane Doe <jane@example.com>, ops@example.com")
        #expect(parsed.header("Subject") == "Job finished")
        #expect(parsed.header("MIME-Version") == "1.0")
        #expect(rendered.hasPrefix("Date: Sat, 21 Nov 2026 09:52:47 +0000\r\nMessage-ID: <job-42@conveyor.example>\r\n"))
    }

    @Test func generatesMessageIDFromSenderDomain() throws {
        let parsed = ParsedMessage(try message().rendered())
        let id = try #require(parsed.header("Message-ID"))
        #expect(id.hasPrefix("<"))
        #expect(id.hasSuffix("@conveyor.example>"))
        #expect(id.count > "<@conveyor.example>".count + 30)
    }

    @Test func stripsAngleBracketsFromGivenMessageID() throws {
        let parsed = ParsedMessage(try message(messageID: "<abc@x>").rendered())
        #expect(parsed.header("Message-ID") == "<abc@x>")
    }

    @Test(arguments: ["a b@x", "", "a<b@x", "a\r\nBcc: x@y"])
    func rejectsInvalidMessageID(_ id: String) throws {
        let error = #expect(throws: SMTPError.self) { try message(messageID: id).rendered() }
        #expect(error?.code == .invalidHeader)
        #expect(error?.field == "Message-ID")
    }

    @Test func encodesNonASCIISubjectIntoShortDecodableWords() throws {
        let subject = "Rapport prêt ✅ — 日本語のテキストがとても長い件名 " + String(repeating: "Ünïcødé 👩‍👩‍👧‍👦 ", count: 8)
        let rendered = try message(subject: subject).rendered()
        let subjectLines = rendered.components(separatedBy: "\r\n").drop { !$0.hasPrefix("Subject:") }
            .prefix { $0.hasPrefix("Subject:") || $0.hasPrefix(" ") }
        #expect(subjectLines.count > 3)
        for line in subjectLines {
            #expect(line.utf8.count <= 78, "line too long: \(line)")
            for word in line.split(separator: " ") where word != "Subject:" {
                #expect(word.hasPrefix("=?UTF-8?B?") && word.hasSuffix("?="))
                #expect(word.count <= 75)
                // Each word decodes on its own: no character is split across words.
                let payload = String(word.dropFirst(10).dropLast(2))
                let data = try #require(Data(base64Encoded: payload))
                #expect(String(data: data, encoding: .utf8) != nil)
            }
        }
        let parsed = ParsedMessage(rendered)
        #expect(ParsedMessage.decodeHeader(try #require(parsed.header("Subject"))) == subject)
    }

    @Test func foldsLongASCIISubjectAtSpaces() throws {
        let subject = Array(repeating: "word", count: 40).joined(separator: " ")
        let rendered = try message(subject: subject).rendered()
        let parsed = ParsedMessage(rendered)
        #expect(parsed.header("Subject") == subject)
        #expect(rendered.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 })
    }

    @Test func encodesASCIISubjectThatLooksLikeAnEncodedWord() throws {
        let subject = "=?UTF-8?B?aGk=?=  two  spaces "
        let parsed = ParsedMessage(try message(subject: subject).rendered())
        let raw = try #require(parsed.header("Subject"))
        #expect(raw != subject)
        #expect(ParsedMessage.decodeHeader(raw) == subject)
    }

    @Test func encodesDisplayNames() throws {
        var email = try message()
        email.from = try EmailAddress(name: "Zoë Ångström", address: "zoe@example.com")
        email.to = [try EmailAddress(name: "Doe, Jane", address: "jane@example.com")]
        let parsed = ParsedMessage(try email.rendered())
        let from = try #require(parsed.header("From"))
        #expect(from.hasPrefix("=?UTF-8?B?"))
        #expect(from.hasSuffix(" <zoe@example.com>"))
        #expect(ParsedMessage.decodeHeader(from) == "Zoë Ångström <zoe@example.com>")
        #expect(parsed.header("To") == #""Doe, Jane" <jane@example.com>"#)
    }

    @Test(arguments: ["Hello\r\nBcc: evil@example.com", "Hello\n", "\rHello", "Hel\0lo"])
    func rejectsLineBreaksInSubject(_ subject: String) throws {
        let error = #expect(throws: SMTPError.self) { try message(subject: subject).rendered() }
        #expect(error?.code == .invalidHeader)
        #expect(error?.field == "Subject")
        #expect(error?.description.contains("Subject") == true)
    }

    @Test func rejectsAddressesMutatedToContainLineBreaks() throws {
        var email = try message()
        email.from.name = "Evil\r\nBcc: victim@example.com"
        var error = #expect(throws: SMTPError.self) { try email.rendered() }
        #expect(error?.code == .invalidAddress)
        #expect(error?.field == "From")
        #expect(error?.message.contains("name") == true)

        email = try message()
        email.to[1].address = "ops@example.com\r\nRCPT TO:<victim@example.com>"
        error = #expect(throws: SMTPError.self) { try email.rendered() }
        #expect(error?.code == .invalidAddress)
        #expect(error?.field == "To")
        #expect(error?.message.contains("address") == true)
    }

    @Test func rendersValidatedExtraHeaders() throws {
        let parsed = ParsedMessage(
            try message(headers: [("X-Conveyor-Job", "42"), ("X-Note", "café au lait")]).rendered())
        #expect(parsed.header("X-Conveyor-Job") == "42")
        #expect(ParsedMessage.decodeHeader(try #require(parsed.header("X-Note"))) == "café au lait")
    }

    @Test(arguments: [
        ("X-Evil", "a\r\nBcc: victim@example.com"), ("X-Evil", "a\nb"), ("X Evil", "a"), ("X:Evil", "a"), ("", "a"),
        ("Subject", "again"), ("content-type", "text/html"),
    ])
    func rejectsInvalidExtraHeaders(_ header: (String, String)) throws {
        let error = #expect(throws: SMTPError.self) { try message(headers: [header]).rendered() }
        #expect(error?.code == .invalidHeader)
        #expect(error?.field == header.0)
    }

    @Test func rendersSinglePartWithoutHTML() throws {
        let parsed = ParsedMessage(try message(text: "Line one\nLine two").rendered())
        #expect(parsed.header("Content-Type") == "text/plain; charset=utf-8")
        #expect(parsed.header("Content-Transfer-Encoding") == "quoted-printable")
        #expect(parsed.boundary == nil)
        #expect(parsed.decodedBody == "Line one\nLine two\n")
    }

    @Test func rendersMultipartAlternative() throws {
        let text = "Hi Jane,\nyour job finished. ✅\n.\n.leading dot\nsmørrebrød = tasty \n"
        let html = "<p>Hi Jane,</p>\n<p>your job <b>finished</b>. ✅</p>\n"
        let rendered = try message(text: text, html: html).rendered()
        let parsed = ParsedMessage(rendered)
        let contentType = try #require(parsed.header("Content-Type"))
        #expect(contentType.hasPrefix("multipart/alternative;"))
        let boundary = try #require(parsed.boundary)
        #expect(rendered.hasSuffix("\r\n--\(boundary)--\r\n"))
        let parts = parsed.parts
        try #require(parts.count == 2)
        #expect(parts[0].header("Content-Type") == "text/plain; charset=utf-8")
        #expect(parts[1].header("Content-Type") == "text/html; charset=utf-8")
        for part in parts {
            #expect(part.header("Content-Transfer-Encoding") == "quoted-printable")
        }
        #expect(parts[0].decodedBody == text)  // the CRLF before a delimiter belongs to the delimiter
        #expect(parts[1].decodedBody == html)
    }

    @Test func usesCRLFEverywhereAndShortLines() throws {
        let text = "bare LF\nbare CR\rCRLF\r\nmixed\n\r\n" + String(repeating: "é long line ", count: 40) + "\ntrailing space \n"
        let rendered = try message(subject: "Ünïcødé", text: text, html: "<p>\n" + text + "</p>").rendered()
        #expect(hasOnlyCRLFLineEndings(rendered))
        for line in rendered.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 78, "line too long: \(line)")
            #expect(!line.hasSuffix(" ") && !line.hasSuffix("\t"), "trailing whitespace: \(line)")
        }
        #expect(rendered.unicodeScalars.allSatisfy { $0.isASCII })
        let parsed = ParsedMessage(rendered)
        let expected = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        #expect(parsed.parts.first?.decodedBody == expected)
    }

    @Test func quotedPrintableEncodesSpecialBytes() {
        #expect(MIMEEncoding.quotedPrintable("a=b") == "a=3Db")
        #expect(MIMEEncoding.quotedPrintable("end \nx\t") == "end=20\r\nx=09")
        #expect(MIMEEncoding.quotedPrintable("é") == "=C3=A9")
        let wrapped = MIMEEncoding.quotedPrintable(String(repeating: "x", count: 200))
        #expect(wrapped.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 76 })
        #expect(ParsedMessage.decodeQuotedPrintable(wrapped.replacingOccurrences(of: "\r\n", with: "\n"))
            == String(repeating: "x", count: 200))
    }

    /// Cross-checks the renderer against Python's `email` package, an independent MIME implementation.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")))
    func pythonEmailPackageParsesRenderedMessage() throws {
        let subject = "Résumé ✅ " + String(repeating: "日本語 ", count: 20)
        var email = try message(subject: subject, text: "Plain ✅\n", html: "<p>HTML ✅</p>")
        email.from = try EmailAddress(name: "Zoë Ångström", address: "zoe@example.com")
        let script = """
            import sys, json, email, email.policy
            m = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)
            parts = [p.get_content().replace("\\r\\n", "\\n") for p in m.walk() if not p.is_multipart()]
            print(json.dumps({"subject": str(m["subject"]), "from": str(m["from"]), "to": str(m["to"]),
                              "types": [p.get_content_type() for p in m.walk()], "parts": parts,
                              "defects": [str(d) for d in m.defects]}))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(try email.rendered().utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(json["subject"] as? String == subject)
        #expect(json["from"] as? String == "Zoë Ångström <zoe@example.com>")
        #expect(json["to"] as? String == "Jane Doe <jane@example.com>, ops@example.com")
        #expect(json["types"] as? [String] == ["multipart/alternative", "text/plain", "text/html"])
        #expect(json["parts"] as? [String] == ["Plain ✅\n", "<p>HTML ✅</p>"])
        #expect((json["defects"] as? [String])?.isEmpty == true)
    }
}

@Suite("SMTPConfiguration")
struct SMTPConfigurationTests {
    @Test func descriptionRedactsSecrets() {
        let configuration = SMTPConfiguration(
            url: "smtp://user:hunter2@mail.example:587", username: "user", password: "s3cret-pass")
        let text = "\(configuration) \(String(reflecting: configuration))"
        #expect(!text.contains("s3cret-pass"))
        #expect(!text.contains("hunter2"))
        #expect(text.contains("mail.example:587"))
    }

    @Test func heloDomainBecomesURLPath() throws {
        var configuration = SMTPConfiguration(url: "smtp://mail.example:2525", heloDomain: "conveyor.example")
        #expect(try configuration.curlURL() == "smtp://mail.example:2525/conveyor.example")
        configuration.url = "smtps://mail.example/old"
        #expect(try configuration.curlURL() == "smtps://mail.example/conveyor.example")
        configuration.heloDomain = "bad domain"
        #expect(throws: SMTPError.self) { try configuration.curlURL() }
    }

    @Test(arguments: ["http://mail.example", "file:///etc/passwd", "mail.example:25", "smtp://a b"])
    func rejectsNonSMTPURLs(_ url: String) {
        let error = #expect(throws: SMTPError.self) { try SMTPConfiguration(url: url).curlURL() }
        #expect(error?.code == .invalidConfiguration)
    }
}
