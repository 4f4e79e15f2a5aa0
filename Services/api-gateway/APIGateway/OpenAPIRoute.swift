import Hummingbird

/// `GET /api/v1/openapi.yaml`: the API's OpenAPI document (the one kept in `docs/openapi.yaml`).
enum OpenAPIRoute {
    static func add(to router: Router<GatewayContext>) {
        router.get("api/v1/openapi.yaml") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml + "\n")))
        }
    }
}
