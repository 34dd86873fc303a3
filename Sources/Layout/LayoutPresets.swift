// Generated from Layouts/*.json by `make presets`; a test checks they match.

public enum LayoutPresets {
    public static let names = ["grid", "speaker", "pip", "presentation", "single"]

    public static let documents: [String: String] = [
        "grid": #"""
{
  "name": "grid",
  "description": "Everyone in a near-square grid that re-tiles as people join and leave.",
  "canvas": { "fps": 30, "background": "#000000" },
  "regions": [
    { "id": "main", "sources": ["*"], "fit": "contain" }
  ]
}
"""#,
        "speaker": #"""
{
  "name": "speaker",
  "description": "The active speaker large, everyone else in a strip below.",
  "canvas": { "fps": 30, "background": "#000000" },
  "regions": [
    { "id": "speaker", "x": 0, "y": 0, "width": "100%", "height": "78%", "mode": "single", "sources": ["@speaker"], "fit": "contain" },
    { "id": "strip", "x": 0, "y": "78%", "width": "100%", "height": "22%", "sources": ["@others"], "max_rows": 1, "gap": 4, "fit": "contain" }
  ]
}
"""#,
        "pip": #"""
{
  "name": "pip",
  "description": "The active speaker full frame, the others in a bordered inset at the bottom right.",
  "canvas": { "fps": 30, "background": "#000000" },
  "regions": [
    { "id": "main", "mode": "single", "sources": ["@speaker"], "fit": "contain" },
    { "id": "inset", "x": "72%", "y": "70%", "width": "26%", "height": "26%", "z": 1, "sources": ["@others"],
      "max_rows": 1, "gap": 2, "fit": "cover", "border": { "width": 2, "color": "#ffffff" } }
  ]
}
"""#,
        "presentation": #"""
{
  "name": "presentation",
  "description": "A screen share large (the speaker when nobody shares), the cameras in a column on the right.",
  "canvas": { "fps": 30, "background": "#000000" },
  "regions": [
    { "id": "screen", "x": 0, "y": 0, "width": "76%", "height": "100%", "mode": "single", "sources": ["@screen", "@speaker"], "fit": "contain" },
    { "id": "cameras", "x": "76%", "y": 0, "width": "24%", "height": "100%", "sources": ["@others"], "max_columns": 1, "gap": 4, "fit": "contain" }
  ]
}
"""#,
        "single": #"""
{
  "name": "single",
  "description": "One source full frame: the active speaker (pinned participant first).",
  "canvas": { "fps": 30, "background": "#000000" },
  "regions": [
    { "id": "main", "mode": "single", "sources": ["@speaker"], "fit": "contain" }
  ]
}
"""#,
    ]

    public static func document(named name: String) -> LayoutDocument? {
        documents[name].flatMap { try? LayoutParser.parse($0) }
    }
}
