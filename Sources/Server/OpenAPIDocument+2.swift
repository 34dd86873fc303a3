// Generated from docs/openapi.json by `make openapi`; a test checks they match.

extension OpenAPIDocument {
    static let piece2 = #"""
          "401": { "$ref": "#/components/responses/Problem" }
        }
      }
    },
    "/rooms/{room}": {
      "parameters": [{ "$ref": "#/components/parameters/room" }],
      "get": {
        "summary": "One room (JSON), or its join page for a browser asking for text/html",
        "responses": {
          "200": { "description": "the room", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Room" } }, "text/html": {} } },
          "400": { "$ref": "#/components/responses/Problem" }, "401": { "$ref": "#/components/responses/Problem" }, "404": { "$ref": "#/components/responses/Problem" }
        }
      }
    },
    "/rooms/{room}/whip": {
      "parameters": [{ "$ref": "#/components/parameters/room" }, { "name": "name", "in": "query", "schema": { "type": "string" } },
                     { "name": "screen", "in": "query", "description": "mids of the offer's video sections that are screen shares, comma-separated (also recognised from a=content:slides or \"screen\" in a=msid)", "schema": { "type": "string" } }],
      "post": {
        "summary": "WHIP (RFC 9725): publish; the room is made if needed",
        "requestBody": { "required": true, "content": { "application/sdp": { "schema": { "type": "string" } } } },
        "responses": {
          "201": { "description": "SDP answer; Location is the session URL", "content": { "application/sdp": { "schema": { "type": "string" } } } },
          "400": { "$ref": "#/components/responses/Problem" }, "401": { "$ref": "#/components/responses/Problem" }, "404": { "$ref": "#/components/responses/Problem" },
          "409": { "$ref": "#/components/responses/Problem" }, "413": { "$ref": "#/components/responses/Problem" }, "415": { "$ref": "#/components/responses/Problem" },
          "503": { "$ref": "#/components/responses/Problem" }
        }
      }
    },
    "/rooms/{room}/whip/{session}": {
      "parameters": [{ "$ref": "#/components/parameters/room" }, { "name": "session", "in": "path", "required": true, "schema": { "type": "string" } }],
      "delete": { "summary": "Leave", "responses": { "200": { "description": "left" }, "404": { "$ref": "#/components/responses/Problem" } } },
      "patch": { "summary": "Trickle ICE (not needed: the answer carries every candidate of the ICE-lite server)", "responses": { "405": { "description": "not supported", "content": { "text/plain": {} } } } }
    },
    "/rooms/{room}/layout": {
      "parameters": [{ "$ref": "#/components/parameters/room" }],
      "get": { "summary": "The layout in force", "responses": { "200": { "description": "layout", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Layout" } } } }, "404": { "$ref": "#/components/responses/Problem" } } },
      "put": {
        "summary": "Apply a layout at the next output frame; answers once it is in force",
        "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Layout" } } } },
        "responses": {
          "200": {
            "description": "the layout now in force",
            "headers": {
              "Layout-Frame": { "description": "index of the first output frame with it (when recording)", "schema": { "type": "integer" } },
              "Layout-Time": { "description": "that frame's time in the recording, seconds", "schema": { "type": "number" } }
            },
            "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Layout" } } }
          },
          "400": { "$ref": "#/components/responses/Problem" }, "401": { "$ref": "#/components/responses/Problem" }, "404": { "$ref": "#/components/responses/Problem" },
          "413": { "$ref": "#/components/responses/Problem" }, "415": { "$ref": "#/components/responses/Problem" }
        }
      }
    },
    "/rooms/{room}/watermark": {
      "parameters": [{ "$ref": "#/components/parameters/room" }],
      "get": { "summary": "The room's watermark document", "responses": { "200": { "description": "watermark document", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Watermarks" } } } }, "404": { "$ref": "#/components/responses/Problem" } } },
      "put": {
        "summary": "Replace the room's watermarks from the next frame (Layouts/README.md; images by relative path inside the server's assets folder)",
        "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Watermarks" } } } },
        "responses": {
          "200": { "description": "the watermark document in force", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Watermarks" } } } },
          "400": { "$ref": "#/components/responses/Problem" }, "401": { "$ref": "#/components/responses/Problem" }, "404": { "$ref": "#/components/responses/Problem" },
          "413": { "$ref": "#/components/responses/Problem" }, "415": { "$ref": "#/components/responses/Problem" }
        }
      }
    },
    "/rooms/{room}/recording/pause": {
      "parameters": [{ "$ref": "#/components/parameters/room" }],
      "post": {
        "summary": "Pause the recording: nothing from now until it resumes is written (composite, track files, chat); 409 when not recording or already paused",
        "responses": {
          "200": { "description": "paused", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Pause" } } } },
          "401": { "$ref": "#/components/responses/Problem" }, "404": { "$ref": "#/components/responses/Problem" }, "409": { "$ref": "#/components/responses/Problem" }
        }
      }
    },
    "/rooms/{room}/recording/resume": {
      "parameters": [{ "$ref": "#/components/parameters/room" }],
      "post": {
        "summary": "Resume a paused recording: it goes on without a gap (the events file and a chapter mark the pause); 409 when not paused",
        "responses": {
          "200": { "description": "resumed", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Pause" } } } },
          "401": { "$ref": "#/components/responses/Problem" }, "404": { "$ref": "#/components/responses/Problem" }, "409": { "$ref": "#/components/responses/Problem" }
        }
      }
    },
    "/rooms/{room}/hls/{file}": {
      "parameters": [{ "$ref": "#/components/parameters/room" }, { "name": "file", "in": "path", "required": true, "schema": { "type": "string", "pattern": "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}$" } }],
      "get": {
        "summary": "The live HLS stream of the room's recording (with --hls): index.m3u8 (an EVENT playlist that ends with EXT-X-ENDLIST when the recording does), init.mp4 and the .m4s segments",
        "responses": {
          "200": { "description": "the file", "content": { "application/vnd.apple.mpegurl": {}, "video/mp4": {}, "video/iso.segment": {} } },
          "401": { "$ref": "#/components/responses/Problem" }, "404": { "$ref": "#/components/responses/Problem" }
        }
      }
    },
    "/recordings": {
      "get": {
        "summary": "The recordings on disk, newest first, with their files and delivery state",
        "parameters": [
          { "name": "room", "in": "query", "required": false, "schema": { "type": "string" } },
          { "name": "since", "in": "query", "required": false, "schema": { "type": "string" }, "description": "started at or after: seconds since 1970 or ISO 8601" },
          { "name": "until", "in": "query", "required": false, "schema": { "type": "string" }, "description": "started before" }
        ],
        "responses": {
          "200": { "description": "recordings", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/RecordingList" } } } },
          "400": { "$ref": "#/components/responses/Problem" }, "401": { "$ref": "#/components/responses/Problem" }, "404": { "$ref": "#/components/responses/Problem" }
        }
      }
    },
    "/recordings/{id}": {
      "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
      "get": {
        "summary": "One recording: files, parts, duration, size, participants, delivery state",
        "responses": {
          "200": { "description": "the recording", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/RecordingEntry" } } } },
          "401": { "$ref": "#/components/responses/Problem" }, "404": { "$ref": "#/components/responses/Problem" }
        }
      },
      "delete": {
        "summary": "Delete a recording's local files (409 while it is being written); what was uploaded stays in the store",
        "responses": {
          "204": { "description": "deleted" },
          "401": { "$ref": "#/components/responses/Problem" }, "404": { "$ref": "#/components/responses/Problem" }, "409": { "$ref": "#/components/responses/Problem" }
        }
      }
    },
    "/recordings/{id}/links": {
      "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } }],
      "post": {
        "summary": "Signed, expiring download links for the recording's files: a player fetches them without the token",
        "requestBody": { "required": false, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/LinkRequest" } } } },
        "responses": {
          "201": { "description": "the links", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Links" } } } },
          "400": { "$ref": "#/components/responses/Problem" }, "401": { "$ref": "#/components/responses/Problem" }, "404": { "$ref": "#/components/responses/Problem" }
        }
      }
    },
    "/recordings/{id}/files/{file}": {
      "parameters": [{ "name": "id", "in": "path", "required": true, "schema": { "type": "string" } },
                     { "name": "file", "in": "path", "required": true, "schema": { "type": "string" } }],
      "get": {
        "summary": "Download a file of the recording, with HTTP ranges (players seek); the token, or ?expires=&signature= of a signed link (403 when expired or altered)",
        "security": [{}, { "bearer": [] }],
        "parameters": [{ "name": "Range", "in": "header", "required": false, "schema": { "type": "string" }, "description": "bytes=START-END, bytes=START-, bytes=-LENGTH" }],
        "responses": {
          "200": { "description": "the file", "content": { "video/mp4": {}, "audio/mp4": {}, "audio/ogg": {}, "audio/mpeg": {}, "audio/wav": {}, "application/x-ndjson": {}, "text/vtt": {}, "application/json": {} } },
          "206": { "description": "the range asked for", "content": { "video/mp4": {} } },
          "401": { "$ref": "#/components/responses/Problem" }, "403": { "$ref": "#/components/responses/Problem" }, "404": { "$ref": "#/components/responses/Problem" },
          "416": { "$ref": "#/components/responses/Problem" }
        }
      }
    },
    "/uploads": {
      "get": {
        "summary": "Every upload of a recording file to the object store and its state (pending, uploading, completed, failed), and the webhooks not yet delivered",
        "responses": {
          "200": { "description": "the upload journal", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Uploads" } } } },
          "401": { "$ref": "#/components/responses/Problem" }
        }
      }
    },
    "/rooms/{room}/recording": {
      "parameters": [{ "$ref": "#/components/parameters/room" }],
      "post": {
        "summary": "Start recording (the room is made if needed); 503 below the free-space floor or without CPU for another recording",
        "requestBody": { "required": false, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/StartRecording" } } } },
        "responses": {
          "201": { "description": "started", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/RecordingStarted" } } } },
          "400": { "$ref": "#/components/responses/Problem" }, "401": { "$ref": "#/components/responses/Problem" }, "404": { "$ref": "#/components/responses/Problem" },
          "409": { "$ref": "#/components/responses/Problem" }, "503": { "$ref": "#/components/responses/Problem" }
        }
      },
      "delete": {
        "summary": "Stop recording: the file is finalized",
        "responses": {
          "200": { "description": "the finished file", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/RecordingFile" } } } },
          "401": { "$ref": "#/components/responses/Problem" }, "404": { "$ref": "#/components/responses/Problem" }, "409": { "$ref": "#/components/responses/Problem" }
        }
      }
    },
    "/rooms/{room}/participants/{id}": {
      "parameters": [{ "$ref": "#/components/parameters/room" }, { "$ref": "#/components/parameters/participant" }],
      "patch": {
        "summary": "Rename, pin, hide, set the gain of or mute a participant",
        "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ParticipantChange" } } } },
        "responses": {
          "200": { "description": "the settings in force", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ParticipantSettings" } } } },
          "400": { "$ref": "#/components/responses/Problem" }, "401": { "$ref": "#/components/responses/Problem" }, "404": { "$ref": "#/components/responses/Problem" },
          "413": { "$ref": "#/components/responses/Problem" }, "415": { "$ref": "#/components/responses/Problem" }
        }
      }
    },
    "/rooms/{room}/chat": {
      "parameters": [{ "$ref": "#/components/parameters/room" }],
      "post": {
        "summary": "A chat message for the overlay, the WebVTT file and the MP4's text track",
        "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Chat" } } } },
        "responses": {
          "201": { "description": "on screen from `time` (seconds into the recording)", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ChatPosted" } } } },
          "400": { "$ref": "#/components/responses/Problem" }, "401": { "$ref": "#/components/responses/Problem" }, "404": { "$ref": "#/components/responses/Problem" },
          "409": { "$ref": "#/components/responses/Problem" }, "413": { "$ref": "#/components/responses/Problem" }, "415": { "$ref": "#/components/responses/Problem" }
        }
      }
    },
    "/rooms/{room}/sources": {
      "parameters": [{ "$ref": "#/components/parameters/room" }],
      "post": {
        "summary": "A source the recorder receives: plain RTP from an SFU or an encoder, a WHEP stream it pulls, or a Janus VideoRoom's publishers",
        "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/SourceRequest" } } } },
        "responses": {
          "201": { "description": "the endpoint: where to send", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Source" } } } },
          "400": { "$ref": "#/components/responses/Problem" }, "401": { "$ref": "#/components/responses/Problem" }, "404": { "$ref": "#/components/responses/Problem" },
          "409": { "$ref": "#/components/responses/Problem" }, "413": { "$ref": "#/components/responses/Problem" }, "415": { "$ref": "#/components/responses/Problem" },
          "502": { "$ref": "#/components/responses/Problem" }, "503": { "$ref": "#/components/responses/Problem" }
        }
      },
      "get": {
        "summary": "The room's sources",
        "responses": {
          "200": { "description": "", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/SourceList" } } } },
          "401": { "$ref": "#/components/responses/Problem" }
        }
      }
    },
    "/rooms/{room}/sources/{source}": {
      "parameters": [{ "$ref": "#/components/parameters/room" }, { "name": "source", "in": "path", "required": true, "schema": { "type": "string" } }],
      "delete": {
        "summary": "Removes a source: its participant leaves, its ports close (WHEP: its resource is DELETEd)",
        "responses": {
          "200": { "description": "removed" },
          "401": { "$ref": "#/components/responses/Problem" }, "404": { "$ref": "#/components/responses/Problem" }
        }
      }
    },
    "/rooms/{room}/snapshot.jpg": {
      "parameters": [{ "$ref": "#/components/parameters/room" }],
      "get": {
        "summary": "The current composite frame",
        "responses": {
          "200": { "description": "JPEG", "content": { "image/jpeg": {} } },
          "401": { "$ref": "#/components/responses/Problem" }, "404": { "$ref": "#/components/responses/Problem" }, "409": { "$ref": "#/components/responses/Problem" }
        }
      }
    }
  }
}

"""#
}
