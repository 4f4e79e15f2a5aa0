import ConveyorModels
import Foundation
import Hummingbird
import Messaging
import ServiceKit

/// `/api/v1/me/notification`: the caller's default e-mail settings, which their jobs without a
/// `notification` section take when submitted.
struct NotificationDefaultRoutes: Sendable {
    let metadata: MetadataClient

    func add(to router: Router<GatewayContext>) {
        router.get("api/v1/me/notification", use: get)
        router.put("api/v1/me/notification", use: set)
        router.delete("api/v1/me/notification", use: clear)
    }

    @Sendable func get(request: Request, context: GatewayContext) async throws -> Response {
        try RouteSupport.json(try await metadata.call(GetNotificationDefault(principal: try context.caller().name)))
    }

    /// `PUT`: a `NotificationSettings` body (`email`, and `when` or `on`); 422 naming each problem.
    @Sendable func set(request: Request, context: GatewayContext) async throws -> Response {
        let caller = try context.caller()
        let settings = try await RouteSupport.decode(NotificationSettings.self, request, limit: 64 * 1024, shape: NotificationSettings.shape)
        let problems = settings.problems(prefix: "")
        guard problems.isEmpty else { throw Problem(.unprocessableContent, "the notification settings are invalid", errors: problems) }
        return try RouteSupport.json(try await metadata.call(SetNotificationDefault(principal: caller.name, settings: settings)))
    }

    @Sendable func clear(request: Request, context: GatewayContext) async throws -> Response {
        try RouteSupport.json(try await metadata.call(SetNotificationDefault(principal: try context.caller().name, settings: nil)))
    }
}
