// Generated from docs/openapi.json by `make openapi`; a test checks they match.

extension OpenAPIDocument {
    static let piece1 = #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "mcu-record",
    "version": "0.1.0",
    "description": "Control a live composite recorder: publish over WHIP, steer layouts, participants and chat, start and stop recordings. With a token configured every route but `/`, `/healthz` needs `Authorization: Bearer TOKEN`. Errors are RFC 9457 problem documents.",
    "license": { "name": "GPL-2.0-or-later", "identifier": "GPL-2.0-or-later" }
  },
  "components": {
    "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
    "parameters": {
      "room": { "name": "room", "in": "path", "required": true, "schema": { "type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$" } },
      "participant": { "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }
    },
    "schemas": {
      "Problem": {
        "type": "object", "additionalProperties": false,
        "properties": {
          "type": { "type": "string" }, "title": { "type": "string" }, "status": { "type": "integer" },
          "detail": { "type": "string" }, "field": { "type": "string", "description": "The JSON field the error is about, e.g. regions[1].max_rows" }
        },
        "required": ["type", "title", "status", "detail"]
      },
      "Layout": {
        "description": "A layout document (Layouts/layout.schema.json, native or Twilio video_layout), or {\"preset\": NAME, ...fields replacing the preset's}.",
        "type": "object"
      },
      "Watermarks": {
        "description": "A watermark document (Layouts/README.md; images by relative path inside the server's assets folder).",
        "type": "object", "properties": { "items": { "type": "array" } }, "required": ["items"]
      },
      "Track": {
        "type": "object", "additionalProperties": false,
        "properties": {
          "mid": { "type": "string" }, "kind": { "enum": ["audio", "video"] },
          "codec": { "type": "string", "description": "absent until the first frame is decoded" },
          "width": { "type": "integer", "description": "video only, once decoded" }, "height": { "type": "integer" },
          "fps": { "type": "number", "description": "video only; frames per second averaged over the track's life" },
          "recent_fps": { "type": "number", "description": "video only; frames per second over the last 2 s" },
          "bitrate": { "type": "number", "description": "bits per second averaged over the track's life" },
          "recent_bitrate": { "type": "number", "description": "bits per second over the last 2 s" }, "packets": { "type": "integer" }, "lost": { "type": "integer" }, "loss": { "type": "number" },
          "nacked": { "type": "integer" }, "recovered": { "type": "integer" }, "keyframe_requests": { "type": "integer" },
          "retransmitted": { "type": "integer", "description": "packets that came as retransmissions in an RTX stream (RFC 4588)" },
          "simulcast": {
            "type": "object", "description": "a simulcast track only: its layers and the one decoded (the smallest that fills its tile)",
            "properties": {
              "selected": { "type": "string", "description": "the rid decoded; absent before the first layer's keyframe" },
              "layers": { "type": "array", "items": { "type": "object", "properties": {
                "rid": { "type": "string" }, "width": { "type": "integer", "description": "from its keyframes" }, "height": { "type": "integer" },
                "bitrate": { "type": "integer", "description": "bits per second over the last second; 0 when the sender has the layer off" } },
                "required": ["rid", "bitrate"] } }
            },
            "required": ["layers"]
          }
        },
        "required": ["mid", "kind", "bitrate", "recent_bitrate", "packets", "lost", "loss", "nacked", "recovered", "keyframe_requests", "retransmitted"]
      },
      "Participant": {
        "type": "object", "additionalProperties": false,
        "properties": {
          "id": { "type": "string" }, "name": { "type": "string" }, "pinned": { "type": "boolean" }, "hidden": { "type": "boolean" },
          "gain": { "type": "number" }, "muted": { "type": "boolean" }, "frozen": { "type": "number", "description": "seconds its tile showed a stale picture" },
          "tracks": { "type": "array", "items": { "$ref": "#/components/schemas/Track" } },
          "declined": { "type": "array", "items": { "type": "string" }, "description": "what of its offer was not taken, and why (a camera in a codec the recorder does not decode, simulcast layers)" }
        },
        "required": ["id", "name", "pinned", "hidden", "gain", "muted", "frozen", "tracks"]
      },
      "RecordingFile": {
        "type": "object", "additionalProperties": false,
        "properties": {
          "file": { "type": "string" }, "duration": { "type": "number" }, "size": { "type": "integer" }, "frames": { "type": "integer" },
          "lag": { "type": "object", "description": "how late the compositor made frames (ms): at worst and at the end", "additionalProperties": false,
                   "properties": { "max": { "type": "number" }, "final": { "type": "number" } }, "required": ["max", "final"] },
          "faster_preset": { "type": "object", "description": "overload: seconds encoded with a faster x264 preset than configured, and the fastest",
                             "additionalProperties": false, "properties": { "seconds": { "type": "number" }, "fastest": { "type": "string" } },
                             "required": ["seconds", "fastest"] },
          "reduced_frame_rate": { "type": "object", "description": "overload: seconds at a lower frame rate, and the lowest", "additionalProperties": false,
                                  "properties": { "seconds": { "type": "number" }, "lowest": { "type": "number" } }, "required": ["seconds", "lowest"] },
          "events": { "type": "string", "description": "the events log beside the recording" }, "chat": { "type": "string", "description": "the chat transcript (WebVTT)" },
          "audio_file": { "type": "string", "description": "the mix as an audio file besides the video (--audio-file)" },
          "parts": { "type": "array", "description": "a recording cut into parts: each part (file is then the last; duration, size and frames are of them all)",
                     "items": { "type": "object", "additionalProperties": false, "required": ["number", "file", "start", "duration", "size"],
                                "properties": { "number": { "type": "integer", "minimum": 1 }, "file": { "type": "string" },
                                                "start": { "type": "number", "description": "seconds into the recording" }, "duration": { "type": "number" },
                                                "size": { "type": "integer" } } } }
        },
        "required": ["file", "duration", "size", "frames", "lag"]
      },
      "RecordingState": {
        "type": "object", "additionalProperties": false, "description": "the recording in progress (file, duration, size only while active)",
        "properties": { "active": { "type": "boolean" }, "file": { "type": "string" }, "duration": { "type": "number", "description": "seconds recorded, pauses left out" },
                        "size": { "type": "integer" }, "paused": { "type": "boolean" },
                        "live_outputs": { "$ref": "#/components/schemas/LiveOutputs" } },
        "required": ["active"]
      },
      "LiveOutputs": {
        "type": "object", "additionalProperties": false, "description": "the recording's live outputs (--hls, --hls-rendition, --rtmp, rtmp_url)",
        "properties": {
          "hls": { "type": "object", "additionalProperties": false, "required": ["playlist", "renditions"],
                   "properties": { "playlist": { "type": "string", "description": "path of the playlist on this server" },
                                   "renditions": { "type": "array", "items": { "type": "string", "description": "WIDTHxHEIGHT" } },
                                   "error": { "type": "string", "description": "why HLS (or a rendition) stopped; the recording goes on" } } },
          "rtmp": { "type": "array", "items": { "type": "object", "additionalProperties": false, "required": ["url", "state"],
                    "properties": { "url": { "type": "string", "description": "the push URL without its stream key" },
                                    "state": { "type": "string", "description": "connected, connecting, or why not" } } } }
        },
        "required": ["rtmp"]
      },
      "Pause": {
        "type": "object", "additionalProperties": false, "required": ["paused", "time"],
        "properties": {
          "paused": { "type": "boolean" },
          "time": { "type": "number", "description": "seconds into the recording where it paused or goes on (a pause leaves no gap)" },
          "paused_for": { "type": "number", "description": "how long the pause lasted (resume only)" }
        }
      },
      "Room": {
        "type": "object", "additionalProperties": false,
        "properties": {
          "name": { "type": "string" },
          "participants": { "type": "array", "items": { "$ref": "#/components/schemas/Participant" } },
          "layout": { "$ref": "#/components/schemas/Layout" },
          "recording": { "$ref": "#/components/schemas/RecordingState" },
          "last_recording": { "$ref": "#/components/schemas/RecordingFile" },
          "error": { "type": "string", "description": "why the last recording stopped by itself" }
        },
        "required": ["name", "participants", "layout", "recording"]
      },
      "RoomList": {
        "type": "object", "additionalProperties": false,
        "properties": { "rooms": { "type": "array", "items": { "$ref": "#/components/schemas/Room" } } }, "required": ["rooms"]
      },
      "StartRecording": {
        "type": "object", "additionalProperties": false,
        "properties": {
          "folder": { "type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$", "description": "a folder under the recordings folder" },
          "max_part_duration": { "type": "number", "minimum": 5, "maximum": 86400, "description": "cut the recording into parts of at most so many seconds (complete MP4s that play one after another without a gap)" },
          "max_part_size": { "type": "number", "minimum": 1, "maximum": 1000000, "description": "… or of at most so many MB" },
          "rtmp_url": { "type": "string", "maxLength": 2048, "pattern": "^rtmps?://\\S+$", "description": "also push this recording to an RTMP(S) server (from its own encoded stream), reconnecting when the connection drops" },
          "webhook_url": { "type": "string", "maxLength": 2048, "pattern": "^https?://\\S+$", "description": "also sends this recording's events (recording.*, participant.*, upload.*) here, signed like the server's webhooks" }
        }
      },
      "RecordingEntry": {
        "type": "object", "additionalProperties": false,
        "required": ["id", "room", "folder", "recording", "hls", "size", "participants", "files", "uploads"],
        "properties": {
          "id": { "type": "string" }, "room": { "type": "string" }, "folder": { "type": "string", "description": "its folder under the recordings folder (empty: at the top)" },
          "recording": { "type": "boolean", "description": "still being written" }, "hls": { "type": "boolean", "description": "has an HLS stream (NAME.hls)" },
          "started": { "type": "number", "description": "seconds since 1970" }, "ended": { "type": "number" }, "duration": { "type": "number" },
          "size": { "type": "integer", "description": "bytes of all its files" },
          "participants": { "type": "array", "items": { "type": "string" } },
          "files": { "type": "array", "items": { "type": "object", "additionalProperties": false, "required": ["name", "size", "kind", "url"],
                     "properties": { "name": { "type": "string" }, "size": { "type": "integer" },
                                     "kind": { "type": "string", "enum": ["recording", "part", "audio", "events", "part-events", "chat", "metadata"] },
                                     "url": { "type": "string", "description": "download (with the token, or signed: POST …/links)" } } } },
          "uploads": { "type": "array", "items": { "type": "object", "additionalProperties": false, "required": ["file", "key", "state"],
                       "properties": { "file": { "type": "string" }, "key": { "type": "string" },
                                       "state": { "type": "string", "enum": ["pending", "uploading", "completed", "failed"] },
                                       "error": { "type": "string" } } } }
        }
      },
      "RecordingList": {
        "type": "object", "additionalProperties": false, "required": ["recordings"],
        "properties": { "recordings": { "type": "array", "items": { "$ref": "#/components/schemas/RecordingEntry" } } }
      },
      "LinkRequest": {
        "type": "object", "additionalProperties": false,
        "properties": { "expires_in": { "type": "integer", "minimum": 1, "maximum": 604800, "description": "seconds the links stay valid (default 3600)" } }
      },
      "Links": {
        "type": "object", "additionalProperties": false, "required": ["expires", "files"],
        "properties": {
          "expires": { "type": "integer", "description": "seconds since 1970" },
          "files": { "type": "array", "items": { "type": "object", "additionalProperties": false, "required": ["name", "url"],
                     "properties": { "name": { "type": "string" }, "url": { "type": "string", "description": "path and query: ?expires=…&signature=…" } } } }
        }
      },
      "Uploads": {
        "type": "object", "additionalProperties": false, "required": ["uploads", "webhooks_pending", "store"],
        "properties": {
          "uploads": { "type": "array", "items": { "$ref": "#/components/schemas/Upload" } },
          "webhooks_pending": { "type": "integer", "minimum": 0, "description": "webhook messages not yet delivered (they are retried, and survive a restart)" },
          "store": { "type": ["string", "null"], "description": "where uploads go, s3://BUCKET/PREFIX; null without a store" }
        }
      },
      "Upload": {
        "type": "object", "additionalProperties": false,
        "required": ["id", "file", "key", "recording", "room", "size", "state", "parts", "part_size", "attempts", "created", "webhooks", "local_removed"],
        "properties": {
          "id": { "type": "string" }, "file": { "type": "string", "description": "the local file" }, "key": { "type": "string", "description": "the object key" },
          "recording": { "type": "string" }, "room": { "type": "string" }, "size": { "type": "integer", "minimum": 0 },
          "state": { "type": "string", "enum": ["pending", "uploading", "completed", "failed"], "description": "completed: stored and verified (size, checksum)" },
          "upload_id": { "type": "string", "description": "the multipart upload under way" },
          "parts": { "type": "array", "items": { "type": "object", "additionalProperties": false, "required": ["number", "etag", "size"],
                     "properties": { "number": { "type": "integer" }, "etag": { "type": "string" }, "size": { "type": "integer" } } } },
          "part_size": { "type": "integer" }, "attempts": { "type": "integer", "minimum": 0 },
          "last_error": { "type": "string", "description": "why the latest try failed" }, "etag": { "type": "string" },
          "created": { "type": "number" }, "failing_since": { "type": "number" }, "finished": { "type": "number" },
          "webhooks": { "type": "array", "items": { "type": "string" } }, "local_removed": { "type": "boolean" }
        }
      },
      "RecordingStarted": {
        "type": "object", "additionalProperties": false,
        "properties": { "room": { "type": "string" }, "file": { "type": "string" }, "active": { "type": "boolean" } }, "required": ["room", "file", "active"]
      },
      "ParticipantChange": {
        "type": "object", "additionalProperties": false,
        "properties": {
          "name": { "type": "string", "minLength": 1, "maxLength": 64 },
          "pin": { "type": "boolean", "description": "force into the speaker slot" },
          "hide": { "type": "boolean" },
          "gain": { "type": "number", "minimum": 0, "maximum": 4 },
          "mute": { "type": "boolean" }
        }
      },
      "ParticipantSettings": {
        "type": "object", "additionalProperties": false,
        "properties": {
          "id": { "type": "string" }, "name": { "type": "string" }, "pin": { "type": "boolean" }, "hide": { "type": "boolean" },
          "gain": { "type": "number" }, "mute": { "type": "boolean" }
        },
        "required": ["id", "name", "pin", "hide", "gain", "mute"]
      },
      "Chat": {
        "type": "object", "additionalProperties": false,
        "properties": { "from": { "type": "string", "maxLength": 64 }, "text": { "type": "string", "minLength": 1, "maxLength": 2000 } },
        "required": ["text"]
      },
      "ChatPosted": {
        "type": "object", "additionalProperties": false,
        "properties": { "from": { "type": "string" }, "text": { "type": "string" }, "time": { "type": "number", "description": "seconds into the recording" } },
        "required": ["from", "text", "time"]
      },
      "SourceMedia": {
        "type": "object", "additionalProperties": false,
        "properties": {
          "codec": { "type": "string", "enum": ["vp8", "vp9", "h264", "av1", "opus"] }, "payload_type": { "type": "integer", "minimum": 96, "maximum": 127 },
          "clock_rate": { "type": "integer", "description": "90000 for video, 48000 for Opus unless given" }, "ssrc": { "type": "integer" }
        },
        "required": ["codec", "payload_type"]
      },
      "SourceRequest": {
        "type": "object", "additionalProperties": false,
        "description": "`rtp`: a plain RTP source (mediasoup PlainTransport, Janus rtp_forward, ffmpeg, GStreamer): an SDP of what it sends (ports 0: ours to choose; named ports are bound), or codec descriptions. The sender's address is learnt from its first packet unless `sender` names its IP. `whep`: a participant pulled from a WHEP endpoint (`url`, optional bearer `token`); the call returns once the first connection is negotiated (502 when the server cannot be reached, 400 when it refuses for good), then the source reconnects by itself whenever its session drops. `janus`: a Janus VideoRoom (`url`: Janus's HTTP API, `janus_room`, `pin`): each publisher becomes a participant named by its display name as it publishes, and leaves when it unpublishes; a Janus restart is ridden out. One Janus room per room (409 for a second).",
        "properties": {
          "type": { "type": "string", "enum": ["rtp", "whep", "janus"] }, "name": { "type": "string", "minLength": 1, "maxLength": 64, "description": "rtp, whep: the tile label" },
          "url": { "type": "string", "description": "whep: the WHEP endpoint (http or https; redirects followed); janus: the HTTP API (http://HOST:8088/janus)" },
          "token": { "type": "string", "description": "whep: sent as Authorization: Bearer; janus: Janus's token (token auth)" },
          "janus_room": { "type": ["integer", "string"], "description": "janus: the VideoRoom's id (a string when Janus uses string ids)" },
          "pin": { "type": "string", "description": "janus: the VideoRoom's PIN" },
          "api_secret": { "type": "string", "description": "janus: Janus's apisecret" },
          "offerer": { "type": "string", "enum": ["client", "server", "auto"], "description": "whep: who makes the SDP offer; auto (default): ours, the server's if it answers 406" },
          "sdp": { "type": "string" }, "sender": { "type": "string", "description": "the only IPv4 address accepted" },
          "video": { "$ref": "#/components/schemas/SourceMedia" }, "audio": { "$ref": "#/components/schemas/SourceMedia" },
          "rtcp_mux": { "type": "boolean", "description": "with codec descriptions: RTCP on the RTP port (default true)" }
        },
        "required": ["type"]
      },
      "Source": {
        "type": "object", "additionalProperties": false,
        "properties": {
          "id": { "type": "string", "description": "also its participant id in the room" }, "type": { "type": "string" }, "name": { "type": "string" },
          "host": { "type": "string", "description": "the address to send to" }, "rtcp_mux": { "type": "boolean" },
          "streams": { "type": "array", "items": { "type": "object", "additionalProperties": false,
            "properties": { "mid": { "type": "string" }, "kind": { "type": "string" }, "codec": { "type": "string" }, "payload_type": { "type": "integer" },
                            "port": { "type": "integer" }, "rtcp_port": { "type": "integer", "description": "absent with rtcp-mux" } },
            "required": ["mid", "kind", "codec", "payload_type", "port"] } },
          "declined": { "type": "array", "items": { "type": "string" } },
          "sdp": { "type": "string", "description": "rtp: the endpoint as SDP, for the sender" },
          "url": { "type": "string", "description": "whep: the endpoint pulled from" },
          "state": { "type": "string", "enum": ["connecting", "connected", "reconnecting", "stopped"], "description": "whep, janus" },
          "offerer": { "type": "string", "enum": ["client", "server"], "description": "whep: who offered on the last connection" },
          "connections": { "type": "integer", "description": "whep, janus: sessions made so far (1 + reconnections)" },
          "last_error": { "type": "string", "description": "whep, janus: why it last dropped or failed to reconnect" },
          "janus_room": { "type": ["integer", "string"], "description": "janus: the VideoRoom recorded" },
          "publishers": { "type": "array", "items": { "type": "string" }, "description": "janus: the display names recorded now" }
        },
        "required": ["id", "type", "name"]
      },
      "SourceList": {
        "type": "object", "additionalProperties": false,
        "properties": { "sources": { "type": "array", "items": { "$ref": "#/components/schemas/Source" } } },
        "required": ["sources"]
      }
    },
    "responses": {
      "Problem": { "description": "RFC 9457 problem", "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } }
    }
  },
  "security": [{ "bearer": [] }],
  "paths": {
    "/": { "get": { "summary": "The control page", "security": [], "responses": { "200": { "description": "HTML", "content": { "text/html": {} } } } } },
    "/healthz": { "get": { "summary": "Liveness", "security": [], "responses": { "200": { "description": "ok", "content": { "text/plain": {} } } } } },
    "/metrics": { "get": { "summary": "Prometheus metrics", "responses": { "200": { "description": "text exposition format", "content": { "text/plain": {} } }, "401": { "$ref": "#/components/responses/Problem" } } } },
    "/openapi.json": { "get": { "summary": "This document", "responses": { "200": { "description": "OpenAPI 3.1", "content": { "application/json": {} } } } } },
    "/rooms": {
      "get": {
        "summary": "Every room",
        "responses": {
          "200": { "description": "rooms", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/RoomList" } } } },
"""#
}
