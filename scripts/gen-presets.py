#!/usr/bin/env python3
"""Embeds Layouts/<preset>.json into Sources/Layout/LayoutPresets.swift (run by `make presets`)."""
import pathlib
root = pathlib.Path(__file__).resolve().parent.parent
names = ["grid", "speaker", "pip", "presentation", "single"]
out = ["// Generated from Layouts/*.json by `make presets`; a test checks they match.", "",
       "public enum LayoutPresets {", "    public static let names = [%s]" % ", ".join('"%s"' % n for n in names), "",
       "    public static let documents: [String: String] = ["]
for n in names:
    out += [f'        "{n}": #"""', (root / "Layouts" / f"{n}.json").read_text().rstrip("\n"), '"""#,']
out += ["    ]", "", "    public static func document(named name: String) -> LayoutDocument? {",
        "        documents[name].flatMap { try? LayoutParser.parse($0) }", "    }", "}"]
(root / "Sources/Layout/LayoutPresets.swift").write_text("\n".join(out) + "\n")
