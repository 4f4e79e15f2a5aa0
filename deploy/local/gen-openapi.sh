#!/usr/bin/env bash
# Embeds docs/openapi.yaml in the gateway (served at /api/v1/openapi.yaml), so the document the
# gateway serves is the one kept in docs/. Run after editing docs/openapi.yaml: `make openapi`.
# A test fails when the two differ.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=Services/api-gateway/APIGateway/OpenAPIDocument.swift
if grep -q '"""#' docs/openapi.yaml; then
    echo "docs/openapi.yaml must not contain \"\"\"#" >&2
    exit 1
fi
{
    echo '// Generated from docs/openapi.yaml by `make openapi` (deploy/local/gen-openapi.sh). Do not edit.'
    echo ''
    echo '/// The OpenAPI document the gateway serves.'
    echo 'enum OpenAPIDocument {'
    echo '    static let yaml = #"""'
    cat docs/openapi.yaml
    echo '"""#'
    echo '}'
} > "$out"
echo "wrote $out"
