import AMQPClient

/// Why a call to another service got no answer (as opposed to an answer refusing it, an
/// ``RPCFailure``), for callers that map it to their own answers without knowing the broker
/// client's error type.
public enum DeliveryFailure: Sendable, Equatable {
    /// The service did not answer in time.
    case timedOut
    /// The broker could not be reached, or the connection was lost or closed.
    case brokerUnavailable

    /// The delivery failure `error` is, or nil when it is something else.
    public init?(_ error: any Error) {
        guard let error = error as? AMQPError else { return nil }
        self = error.code == .timeout ? .timedOut : .brokerUnavailable
    }
}
