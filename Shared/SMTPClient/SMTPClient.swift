import Dispatch
import Logging

/// Sends email over SMTP with libcurl.
///
/// Each `send` uses a fresh connection (one libcurl easy handle). The blocking transfer runs on a serial
/// `DispatchQueue` owned by the client, never on Swift's cooperative thread pool, so sends through one client
/// happen one at a time; create more clients for parallel delivery. Cancelling the calling task aborts the
/// transfer within about a second.
public final class SMTPClient: Sendable {
    /// The server and credentials used for every send.
    public let configuration: SMTPConfiguration
    private let logger: Logger
    private let queue: DispatchQueue

    /// Creates a client. No connection is made until `send`.
    public init(configuration: SMTPConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.queue = DispatchQueue(label: "conveyor.smtp-client")
    }

    /// Renders and delivers `message` to every address in `message.to`.
    ///
    /// - Throws: `SMTPError` (`.invalidHeader`, `.invalidAddress` or `.invalidMessage` before anything is sent;
    ///   `.invalidConfiguration` for a bad URL; `.rejected(code)` when the server answers with an SMTP error;
    ///   `.transport(curlCode)` for connection, TLS and timeout failures), or `CancellationError`.
    public func send(_ message: EmailMessage) async throws {
        guard !message.to.isEmpty else {
            throw SMTPError(code: .invalidMessage, field: "To", message: "message has no recipients")
        }
        let messageID = try message.resolvedMessageID()
        let payload = Array(try message.render(messageID: messageID).utf8)
        var recipients: [String] = []
        for recipient in message.to where !recipients.contains(recipient.address) {
            recipients.append(recipient.address)
        }
        let request = CurlTransfer.Request(
            url: try configuration.curlURL(), sender: message.from.address, recipients: recipients,
            username: configuration.username, password: configuration.password,
            requireTLS: configuration.startTLS, timeoutSeconds: configuration.timeoutSeconds,
            connectTimeoutSeconds: configuration.connectTimeoutSeconds)

        var logger = self.logger
        logger[metadataKey: "smtp.message_id"] = "\(messageID)"
        logger[metadataKey: "smtp.server"] = "\(configuration.redactedURL)"
        logger.debug("Sending email", metadata: ["smtp.recipients": "\(recipients.count)", "smtp.bytes": "\(payload.count)"])

        try Task.checkCancellation()
        let transfer = CurlTransfer(payload: payload)
        let queue = self.queue
        let outcome = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<CurlTransfer.Outcome, Never>) in
                queue.async {
                    continuation.resume(returning: transfer.perform(request))
                }
            }
        } onCancel: {
            transfer.cancel()
        }

        if outcome.cancelled {
            logger.debug("Email send cancelled")
            throw CancellationError()
        }
        if outcome.curlCode == 0, outcome.responseCode < 400 {
            logger.info("Email sent", metadata: ["smtp.recipients": "\(recipients.count)"])
            return
        }
        let error: SMTPError
        if outcome.responseCode >= 400 {
            error = SMTPError(
                code: .rejected(outcome.responseCode),
                message: "server replied \(outcome.responseCode): \(outcome.errorText)")
        } else {
            error = SMTPError(code: .transport(outcome.curlCode), message: outcome.errorText)
        }
        logger.debug("Email send failed", metadata: ["smtp.error": "\(error)"])
        throw error
    }
}
