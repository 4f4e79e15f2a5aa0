import ConveyorModels
import Foundation
import Hummingbird
import Messaging

/// An RFC 9457 problem: the JSON body of every 4xx/5xx answer, naming each field that is wrong.
struct Problem: HTTPResponseError, Encodable {
    var status: HTTPResponse.Status
    var title: String
    var detail: String
    var errors: [FieldProblem]?
    /// Seconds to wait before retrying (`Retry-After`), on a 429 or 503.
    var retryAfter: Int?

    init(_ status: HTTPResponse.Status, _ detail: String, errors: [FieldProblem]? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.title = status.reasonPhrase
        self.detail = detail
        self.errors = errors
        self.retryAfter = retryAfter
    }

    enum CodingKeys: String, CodingKey { case type, title, status, detail, errors }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("about:blank", forKey: .type)
        try container.encode(title, forKey: .title)
        try container.encode(status.code, forKey: .status)
        try container.encode(detail, forKey: .detail)
        try container.encodeIfPresent(errors, forKey: .errors)
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = try ConveyorJSON.encode(self)
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        if status == .unauthorized { headers[.wwwAuthenticate] = #"Bearer realm="conveyor""# }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The problem for an error thrown while serving a request.
    static func from(_ error: any Error) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let failure as ValidationFailure:
            if let malformed = failure.problems.first(where: { $0.field == "$" }) {
                return Problem(.badRequest, malformed.reason, errors: failure.problems)
            }
            return Problem(.unprocessableContent, "the request is invalid", errors: failure.problems)
        case let failure as RPCFailure:
            switch failure.code {
            case .invalid: return Problem(.unprocessableContent, failure.message, errors: failure.problems)
            case .notFound: return Problem(.notFound, failure.message)
            case .conflict: return Problem(.conflict, failure.message)
            case .unavailable: return Problem(.serviceUnavailable, failure.message)
            case .quota: return Problem(.tooManyRequests, failure.message)
            case .forbidden: return Problem(.forbidden, failure.message, errors: failure.problems)
            case .internal: return Problem(.internalServerError, "the metadata service failed; see its log")
            }
        case _ where DeliveryFailure(error) == .timedOut:
            return Problem(.gatewayTimeout, "the metadata service did not answer in time; retry")
        case _ where DeliveryFailure(error) == .brokerUnavailable:
            return Problem(.serviceUnavailable, "the message broker is unavailable; retry")
        case let error as HTTPError where error.status == .contentTooLarge:
            return Problem(.contentTooLarge, "the request body is too large")
        case let error as HTTPError:
            return Problem(error.status, error.body ?? error.status.reasonPhrase)
        case let error as any HTTPResponseError where error.status == .contentTooLarge:
            return Problem(.contentTooLarge, "the request body is too large")
        case let error as any HTTPResponseError:
            return Problem(error.status, error.status.reasonPhrase)
        default:
            return Problem(.internalServerError, "internal error")
        }
    }
}

/// Turns every error a route throws into a problem response.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch {
            return try Problem.from(error).response(from: request, context: context)
        }
    }
}
