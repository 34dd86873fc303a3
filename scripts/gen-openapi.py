#!/usr/bin/env python3
"""Embeds docs/openapi.json in the server (served at /openapi.json)."""
import json
import pathlib

root = pathlib.Path(__file__).resolve().parent.parent
text = (root / "docs/openapi.json").read_text()
json.loads(text)  # must be valid JSON
assert '"""#' not in text
(root / "Sources/Server/OpenAPIDocument.swift").write_text(
    "// Generated from docs/openapi.json by `make openapi`; a test checks they match.\n\n"
    "enum OpenAPIDocument {\n    static let text = #\"\"\"\n" + text + "\n\"\"\"#\n}\n")
