extension Result where Failure == any Error {
    /// The outcome of an async throwing body (`Result(catching:)` takes only synchronous ones).
    public static func of(_ body: () async throws -> Success) async -> Result {
        do { return .success(try await body()) } catch { return .failure(error) }
    }
}
