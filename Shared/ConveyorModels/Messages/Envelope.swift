import Foundation

/// The versioned JSON envelope every Conveyor message travels in.
///
/// `type` names the payload's contract (e.g. `job.event`), `schemaVersion` its version; a consumer
/// refuses (dead-letters) a major version it does not know. `messageId` identifies the message for
/// de-duplication; `correlationId` ties replies and follow-ups to the request that caused them;
/// `traceParent` carries a W3C trace context when there is one.
public struct Envelope<Payload: Codable & Sendable>: Codable, Sendable {
    public var type: String
    public var schemaVersion: Int
    public var messageId: UUID
    public var correlationId: String?
    public var traceParent: String?
    public var sentAt: Date
    public var payload: Payload

    public init(
        type: String, schemaVersion: Int = 1, messageId: UUID = UUID(), correlationId: String? = nil,
        traceParent: String? = nil, sentAt: Date = Date(), payload: Payload
    ) {
        self.type = type
        self.schemaVersion = schemaVersion
        self.messageId = messageId
        self.correlationId = correlationId
        self.traceParent = traceParent
        self.sentAt = sentAt
        self.payload = payload
    }
}

/// The header of an envelope, decoded without its payload (to route by `type` first).
public struct EnvelopeHeader: Codable, Sendable {
    public var type: String
    public var schemaVersion: Int
    public var messageId: UUID
    public var correlationId: String?

    /// The `type` of an envelope: read from its end when the envelope was written with sorted keys
    /// (as Conveyor writes them: `type` is the last key), else from its decoded header. The quick
    /// read is only a guess for an envelope written otherwise, so decode the payload with
    /// ``Envelope/decode(_:)``, which checks the type, before trusting it.
    public static func type(of body: Data) -> String? {
        let quick = body.withUnsafeBytes { buffer -> String? in
            // `..."type":"<name>"}`: walk back from the end to the quote that opens the value.
            let bytes = buffer.bindMemory(to: UInt8.self)
            let count = bytes.count
            guard count > 10, bytes[count - 1] == UInt8(ascii: "}"), bytes[count - 2] == UInt8(ascii: "\"") else { return nil }
            var open = count - 3
            while open >= 0, bytes[open] != UInt8(ascii: "\""), bytes[open] != UInt8(ascii: "\\") { open -= 1 }
            let marker = Array(#""type":"#.utf8)
            guard open >= marker.count, bytes[open] == UInt8(ascii: "\"") else { return nil }
            for (offset, byte) in marker.enumerated() where bytes[open - marker.count + offset] != byte { return nil }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[(open + 1)..<(count - 2)]), as: UTF8.self)
        }
        return quick ?? (try? ConveyorJSON.decode(EnvelopeHeader.self, from: body))?.type
    }
}

/// A message contract: its envelope type name and schema version.
public protocol MessagePayload: Codable, Sendable {
    static var messageType: String { get }
    static var schemaVersion: Int { get }
}

extension MessagePayload {
    public static var schemaVersion: Int { 1 }
}

/// A message whose envelope cannot be used: wrong type, unknown version or malformed JSON.
public struct MessageDecodingError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

extension Envelope where Payload: MessagePayload {
    /// A new envelope for `payload` with its contract's type and version.
    public init(_ payload: Payload, correlationId: String? = nil) {
        self.init(
            type: Payload.messageType, schemaVersion: Payload.schemaVersion, correlationId: correlationId,
            payload: payload)
    }

    /// Decodes an envelope and checks its type and schema version.
    ///
    /// One pass in the usual case; when the envelope does not decode, its header is read to say why.
    /// - Throws: ``MessageDecodingError`` naming what is wrong.
    public static func decode(_ body: Data) throws -> Envelope<Payload> {
        if let envelope = try? ConveyorJSON.decode(Envelope<Payload>.self, from: body) {
            guard envelope.type == Payload.messageType else {
                throw MessageDecodingError(description: "expected message type \(Payload.messageType), got \(envelope.type)")
            }
            guard envelope.schemaVersion == Payload.schemaVersion else {
                throw MessageDecodingError(
                    description: "\(envelope.type): unsupported schema version \(envelope.schemaVersion) (supported: \(Payload.schemaVersion))")
            }
            return envelope
        }
        let header: EnvelopeHeader
        do {
            header = try ConveyorJSON.decode(EnvelopeHeader.self, from: body)
        } catch {
            throw MessageDecodingError(description: "not a Conveyor envelope: \(error)")
        }
        guard header.type == Payload.messageType else {
            throw MessageDecodingError(description: "expected message type \(Payload.messageType), got \(header.type)")
        }
        guard header.schemaVersion == Payload.schemaVersion else {
            throw MessageDecodingError(
                description: "\(header.type): unsupported schema version \(header.schemaVersion) (supported: \(Payload.schemaVersion))")
        }
        do {
            return try ConveyorJSON.decode(Envelope<Payload>.self, from: body)
        } catch {
            throw MessageDecodingError(description: "\(header.type): malformed payload: \(error)")
        }
    }

    /// The envelope as JSON bytes.
    public func encoded() throws -> Data {
        try ConveyorJSON.encode(self)
    }
}
