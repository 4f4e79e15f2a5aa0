import ConveyorModels
import Hummingbird

/// Refuses, for every route, a query parameter whose name or value the store could not keep (a NUL),
/// with 400 naming the parameter: request bodies are checked where they are decoded
/// (``ConveyorJSON/decode(_:from:checking:)``), query parameters here, before any route reads them.
struct StorableQueryMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var problems: [FieldProblem] = []
        for (name, value) in request.uri.queryParameters {
            if let reason = StorableText.problem(name) ?? StorableText.problem(value) {
                problems.append(FieldProblem(field: String(name.prefix(60)), reason: reason))
            }
        }
        guard problems.isEmpty else { throw Problem(.badRequest, "invalid query parameters", errors: problems) }
        return try await next(request, context)
    }
}
