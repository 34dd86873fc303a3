#!/usr/bin/env python3
"""Embeds docs/openapi.json in the server (served at /openapi.json), in pieces of at most 300 lines a file."""
import json
import pathlib

root = pathlib.Path(__file__).resolve().parent.parent
text = (root / "docs/openapi.json").read_text()
json.loads(text)  # must be valid JSON
assert '"""#' not in text
lines = text.split("\n")
pieces = ["\n".join(lines[i:i + 300]) for i in range(0, len(lines), 300)]
folder = root / "Sources/Server"
for old in folder.glob("OpenAPIDocument*.swift"):
    old.unlink()
header = "// Generated from docs/openapi.json by `make openapi`; a test checks they match.\n\n"
joined = " + \"\\n\" + ".join(f"piece{i + 1}" for i in range(len(pieces)))
(folder / "OpenAPIDocument.swift").write_text(
    header + "enum OpenAPIDocument {\n    static let text = " + joined + "\n}\n")
for i, piece in enumerate(pieces):
    (folder / f"OpenAPIDocument+{i + 1}.swift").write_text(
        header + "extension OpenAPIDocument {\n    static let piece" + str(i + 1) + " = #\"\"\"\n" + piece + "\n\"\"\"#\n}\n")
