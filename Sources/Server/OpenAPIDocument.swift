// Generated from docs/openapi.json by `make openapi`; a test checks they match.

enum OpenAPIDocument {
    static let text = piece1 + "\n" + piece2
}
