import Foundation
import Hummingbird

/// `GET /api/v1/openapi.yaml`: the API's OpenAPI document, `docs/openapi.yaml`, built into the
/// gateway as a resource (`Resources/openapi.yaml` links to it), so the document served is always
/// the one of the code that serves it.
enum OpenAPIRoute {
    /// The document's bytes, read from the gateway's resources.
    /// - Throws: when the resource is missing (an installation without the gateway's resource
    ///   bundle, `Conveyor_APIGateway.resources`, beside the executable).
    static func document() throws -> ByteBuffer {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml") else {
            throw OpenAPIDocumentMissing()
        }
        return ByteBuffer(bytes: try Data(contentsOf: url))
    }

    static func add(to router: Router<GatewayContext>) throws {
        let document = try document()
        router.get("api/v1/openapi.yaml") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/yaml; charset=utf-8"], body: .init(byteBuffer: document))
        }
    }
}

/// The gateway was installed without its resource bundle.
struct OpenAPIDocumentMissing: Error, CustomStringConvertible {
    var description: String {
        "the OpenAPI document (openapi.yaml in the gateway's resource bundle Conveyor_APIGateway.resources, installed beside the api-gateway executable) is missing"
    }
}
