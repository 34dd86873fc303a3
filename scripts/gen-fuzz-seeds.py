#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (Fixtures/fuzz/TARGET/): small valid inputs of every kind each
parser reads, from which libFuzzer mutates. Deterministic; the output is committed."""
import hashlib
import hmac
import json
import pathlib
import struct
import zlib

root = pathlib.Path(__file__).resolve().parent.parent
out = root / "Fixtures/fuzz"


def write(target, name, data):
    folder = out / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data if isinstance(data, bytes) else data.encode())


# STUN (RFC 8489) with ICE attributes, MESSAGE-INTEGRITY and FINGERPRINT.
def stun(cls_method, attrs, key=None, fingerprint=True, tid=b"0123456789ab"):
    body = b""
    for t, v in attrs:
        body += struct.pack("!HH", t, len(v)) + v + b"\0" * (-len(v) % 4)
    if key is not None:
        header = struct.pack("!HHI", cls_method, len(body) + 24, 0x2112A442) + tid
        mac = hmac.new(key, header + body, hashlib.sha1).digest()
        body += struct.pack("!HH", 0x0008, 20) + mac
    if fingerprint:
        header = struct.pack("!HHI", cls_method, len(body) + 8, 0x2112A442) + tid
        crc = (zlib.crc32(header + body) ^ 0x5354554E) & 0xFFFFFFFF
        body += struct.pack("!HHI", 0x8028, 4, crc)
    return struct.pack("!HHI", cls_method, len(body), 0x2112A442) + tid + body


key = b"serverpassword0123456789"
request = stun(0x0001, [(0x0006, b"srvr:pubr"), (0x0024, struct.pack("!I", 0x6E7F1EFF)), (0x802A, b"\x01" * 8), (0x0025, b"")], key)
for target in ("stun", "ice"):
    write(target, "binding-request", request)
    write(target, "binding-request-no-integrity", stun(0x0001, [(0x0006, b"srvr:pubr")], None, False))
    write(target, "success-xor-address", stun(0x0101, [(0x0020, struct.pack("!HHI", 1, 0x1234 ^ 0x2112, 0x7F000001 ^ 0x2112A442))], key))
    write(target, "error-response", stun(0x0111, [(0x0009, b"\0\0\x04\x01Unauthorized")]))
    write(target, "indication", stun(0x0011, [], None, True))


# RTP (RFC 3550) with RFC 8285 header extensions.
def rtp(pt, seq, ts, ssrc, payload, marker=False, ext=None, two_byte=False, csrcs=(), padding=0):
    b0 = 0x80 | (0x20 if padding else 0) | (0x10 if ext else 0) | len(csrcs)
    data = struct.pack("!BBHII", b0, (0x80 if marker else 0) | pt, seq, ts, ssrc)
    for c in csrcs:
        data += struct.pack("!I", c)
    if ext:
        body = b""
        for i, v in ext:
            body += (struct.pack("!BB", i, len(v)) if two_byte else bytes([(i << 4) | (len(v) - 1)])) + v
        body += b"\0" * (-len(body) % 4)
        data += struct.pack("!HH", 0x1000 if two_byte else 0xBEDE, len(body) // 4) + body
    data += payload
    if padding:
        data += b"\0" * (padding - 1) + bytes([padding])
    return data


write("rtp", "opus-mid-level", rtp(111, 1, 960, 0xA0D1, b"\xfc\x01\x02", ext=[(4, b"0"), (1, b"\x9e")]))
write("rtp", "vp8-keyframe-two-byte-ext", rtp(96, 2, 3000, 0xBEEF, b"\x10\x00\x9d\x01\x2a", True, ext=[(4, b"1")], two_byte=True))
write("rtp", "h264-csrc-padding", rtp(102, 3, 6000, 0x1234, b"\x65\x88\x80", True, csrcs=(1, 2), padding=4))
write("rtp", "abs-send-time", rtp(96, 4, 9000, 0xBEEF, b"\x90\x80\x01\x00", ext=[(2, b"\x01\x02\x03")]))


# RTCP (RFC 3550, 4585).
def rtcp(pt, count, body):
    return struct.pack("!BBH", 0x80 | count, pt, (len(body) + 4) // 4 - 1) + body


block = struct.pack("!IIIIII", 0xBEEF, 0x01000010, 1234, 5, 0x11111111, 0x22)
sr = rtcp(200, 1, struct.pack("!IIIIII", 0xA0D1, 0xE5E6E7E8, 0x10000000, 960, 50, 8000) + block)
rr = rtcp(201, 1, struct.pack("!I", 1) + block)
sdes = rtcp(202, 1, struct.pack("!I", 0xA0D1) + b"\x01\x05alice\x00\x00")
bye = rtcp(203, 1, struct.pack("!I", 0xA0D1))
nack = rtcp(205, 1, struct.pack("!IIHH", 1, 0xBEEF, 100, 0x0005))
pli = rtcp(206, 1, struct.pack("!II", 1, 0xBEEF))
remb = rtcp(206, 15, struct.pack("!II", 1, 0) + b"REMB" + struct.pack("!BBH", 1, 0x0F, 0xFFFF) + struct.pack("!I", 0xBEEF))
for name, data in [("sr", sr), ("rr", rr), ("compound-sr-sdes", sr + sdes), ("bye", bye), ("nack", nack), ("pli", pli),
                   ("remb", remb), ("compound-all", rr + sdes + nack + pli + bye)]:
    write("rtcp", name, data)


# SDP offers as browsers and aiortc write them.
def offer(video_codecs, extra_media=""):
    return ("v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
            "a=extmap-allow-mixed\r\na=msid-semantic: WMS stream\r\n"
            "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n"
            "a=ice-ufrag:pubr\r\na=ice-pwd:publisherpassword0123456\r\na=ice-options:trickle\r\n"
            "a=fingerprint:sha-256 " + ":".join(["AB"] * 32) + "\r\na=setup:actpass\r\na=mid:0\r\n"
            "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\na=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
            "a=sendonly\r\na=msid:stream audio\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\n"
            "a=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:63 red/48000/2\r\na=rtpmap:126 telephone-event/8000\r\n"
            "a=ssrc:1001 cname:abc\r\n"
            "m=video 9 UDP/TLS/RTP/SAVPF " + " ".join(str(pt) for pt, _, _ in video_codecs) + "\r\nc=IN IP4 0.0.0.0\r\n"
            "a=ice-ufrag:pubr\r\na=ice-pwd:publisherpassword0123456\r\na=fingerprint:sha-256 " + ":".join(["AB"] * 32) + "\r\n"
            "a=setup:actpass\r\na=mid:1\r\na=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
            "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\na=sendonly\r\na=rtcp-mux\r\na=rtcp-rsize\r\n"
            + "".join(f"a=rtpmap:{pt} {name}/90000\r\na=rtcp-fb:{pt} nack\r\na=rtcp-fb:{pt} nack pli\r\n" + (f"a=fmtp:{pt} {fmtp}\r\n" if fmtp else "")
                      for pt, name, fmtp in video_codecs)
            + "a=ssrc-group:FID 2001 2002\r\na=ssrc:2001 cname:abc\r\na=ssrc:2002 cname:abc\r\n" + extra_media)


write("sdp", "chromium-vp8-vp9-h264", offer([(96, "VP8", ""), (97, "rtx", "apt=96"), (98, "VP9", "profile-id=0"),
                                             (102, "H264", "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f")]))
write("sdp", "h264-only", offer([(102, "H264", "packetization-mode=1;profile-level-id=42e01f")]))
write("sdp", "simulcast", offer([(96, "VP8", "")], "a=rid:h send\r\na=rid:l send\r\na=simulcast:send h;l\r\n"))
write("sdp", "minimal", "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n")


# One frame's payloads: first byte = count - 1, then the bytes cut evenly.
def frame(*payloads):
    return bytes([len(payloads) - 1]) + b"".join(payloads)


write("vp8", "keyframe", frame(b"\x10\x00\x9d\x01\x2a\x40\x01\xf0\x00", b"\x00\xaa\xbb\xcc\xdd\xee\xff\x00\x11"))
write("vp8", "extended-descriptor", frame(b"\x90\xe0\x80\x01\x05\x00\x00\x9d\x01\x2a"))
write("vp9", "flexible-keyframe", frame(b"\x8c\x80\x01\x82\x49\x83\x42\x00", b"\x84\x80\x01\x00\x11\x22\x33\x44"))
write("vp9", "scalability-structure", frame(b"\x8a\x80\x01\x18\x02\x80\x01\x68\x00\x01\x02"))
write("h264", "single-idr", frame(b"\x65\x88\x80\x40\x00\x11"))
write("h264", "stap-a-sps-pps", frame(b"\x18\x00\x04\x67\x42\xe0\x1f\x00\x03\x68\xce\x3c", b"\x65\x88\x84\x00\x33\x44"))
write("h264", "fu-a", frame(b"\x7c\x85\x88\x80\x40\x00", b"\x7c\x05\x11\x22\x33\x44", b"\x7c\x45\x55\x66\x77\x88"))
write("av1", "keyframe-two-packets", frame(b"\x48\x01\x10\x03\x08\xaa\xbb\x03\x30\x11\x22", b"\x90\x33\x44\x55\x66\x77\x88\x99\x00\x11\x22"))
write("av1", "counted-elements", frame(b"\x20\x03\x08\xaa\xbb\x30\x11\x22"))
write("opus", "celt-20ms", b"\xfc\x01\x02\x03")
write("opus", "code-3-vbr", b"\x7b\x83\x05\x01\x02\x03\x04\x05\x06\x07")
write("opus", "silk-10ms", b"\x00\x11\x22")


# Jitter: codec byte, then per packet 8 header bytes and a payload.
def packets(codec, items):
    data = bytes([codec])
    for seq_delta, ts_step, arrival, marker, flags, payload in items:
        data += bytes([seq_delta + 8, 0, ts_step, arrival, 0, len(payload), marker, flags]) + payload
    return data


vp8_key, vp8_delta = b"\x10\x00\x9d\x01\x2a", b"\x10\x01\xaa"
write("jitter", "vp8-in-order", packets(1, [(1, 10, 33, 1, 0, vp8_key), (1, 10, 33, 1, 1, vp8_delta), (1, 10, 33, 1, 1, vp8_delta)]))
write("jitter", "vp8-loss-reorder", packets(1, [(1, 10, 33, 1, 0, vp8_key), (3, 10, 33, 1, 1, vp8_delta), (-1, 0, 5, 1, 3, vp8_delta)]))
write("jitter", "opus", packets(0, [(1, 3, 20, 0, 1, b"\xfc\x01"), (1, 3, 20, 0, 1, b"\xfc\x02"), (2, 6, 40, 0, 1, b"\xfc\x03")]))


# Layout, watermark and chat documents: everything committed, plus bad ones.
for path in sorted((root / "Layouts").glob("*.json")) + sorted((root / "Layouts/examples").glob("*.json")):
    target = "watermark" if path.name == "watermark.json" else "chat" if path.name == "chat.json" else "layout"
    if path.name != "layout.schema.json":
        write(target, path.name, path.read_bytes())
write("layout", "preset-override", json.dumps({"preset": "speaker", "canvas": {"background": "#203040"}}))
write("layout", "labels", json.dumps({"regions": [{"id": "a", "labels": {"size": 14, "position": "top"}, "max_rows": 2, "gap": 4}]}))
write("watermark", "absolute-text", json.dumps({"items": [{"text": "{wallclock}", "x": "10%", "y": 8, "size": "3%", "z": "below"}]}))
write("chat", "full", json.dumps({"region": {"x": 0, "y": "50%", "width": "50%", "height": 200}, "max_lines": 3, "show_names": False}))
write("json", "nested", '{"a": [1, -2.5e3, true, false, null, "\\u00e9\\ud83d\\ude00", {"b": []}]}')
write("json", "participant-patch", '{"name": "Zo\\u00eb", "pin": true, "hide": false, "gain": 0.5, "mute": false}')
write("json", "chat", '{"from": "Ops", "text": "Gr\\u00fc\\u00dfe, \\u041f\\u0440\\u0438\\u0432\\u0435\\u0442"}')
