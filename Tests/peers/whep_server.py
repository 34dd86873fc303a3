#!/usr/bin/env python3
"""A WHEP server on aiortc (a WebRTC stack this project did not write) serving a media file in a loop.

usage: whep_server.py FILE [--port N] [--server-offer] [--token T] [--stun-port N] [--relay]

POST /whep with an SDP offer: 201 with the answer (client offer). With --server-offer, a POST with an offer gets
406 and an empty POST gets 201 with the server's offer; the client PATCHes its answer to the resource. POST
/moved answers 307 to /whep (any method). DELETE on the resource ends the session. With --stun-port, a STUN server (RFC 8489 binding, aioice's codec)
answers on that UDP port and OPTIONS and POST name it in a Link header. Prints "ready PORT" once listening, and
one line per event on stdout. With --relay the file's VP8 and Opus go out as they are, not decoded and encoded
again (for benchmarks: cheap to serve; the file must have frequent keyframes, as no PLI is answered).
"""
import argparse
import asyncio
import uuid

from aioice import stun
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer

sessions: dict[str, RTCPeerConnection] = {}


def without_remb(sdp: str) -> str:
    # aiortc (1.x) re-creates its VP8 encoder when a REMB changes its bitrate, and the new encoder refuses the
    # timestamps of a looping file: its video dies. Not announcing goog-remb keeps REMB away from it.
    return "".join(line for line in sdp.splitlines(True) if "goog-remb" not in line)


def player_for(args) -> MediaPlayer:
    return MediaPlayer(args.file, loop=True, decode=not args.relay)


def add_tracks(pc: RTCPeerConnection, args) -> None:
    player = player_for(args)
    for track in (player.audio, player.video):
        if track is not None:
            pc.addTransceiver(track, direction="sendonly")


class STUNServer(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        try:
            request = stun.parse_message(data)
        except ValueError:
            return
        if request.message_method != stun.Method.BINDING or request.message_class != stun.Class.REQUEST:
            return
        response = stun.Message(message_method=stun.Method.BINDING, message_class=stun.Class.RESPONSE,
                                transaction_id=request.transaction_id)
        response.attributes["XOR-MAPPED-ADDRESS"] = addr
        self.transport.sendto(bytes(response), addr)
        print("stun binding from", f"{addr[0]}:{addr[1]}", flush=True)


async def handle(args, method: str, path: str, headers: dict, body: bytes):
    """(status, headers, body) for one request."""
    if args.token and headers.get("authorization") != f"Bearer {args.token}":
        return 401, {}, b"a bearer token is required"
    link = {"Link": f'<stun:127.0.0.1:{args.stun_port}>; rel="ice-server"'} if args.stun_port else {}
    if method == "OPTIONS" and path == "/whep":
        return 204, link, b""
    if path == "/moved":
        return 307, {"Location": "/whep"}, b""
    if method == "POST" and path == "/whep":
        resource = uuid.uuid4().hex
        pc = RTCPeerConnection()
        for line in body.decode().splitlines():
            if line.startswith("a=candidate:"):
                print("offer-candidate", line, flush=True)
        if body.strip():
            if args.server_offer:
                await pc.close()
                return 406, {}, b"this endpoint offers itself: POST without a body"
            await pc.setRemoteDescription(RTCSessionDescription(sdp=body.decode(), type="offer"))
            for transceiver in pc.getTransceivers():
                transceiver.direction = "sendonly"
            player = player_for(args)
            for transceiver in pc.getTransceivers():
                track = player.video if transceiver.kind == "video" else player.audio
                if track is not None:
                    transceiver.sender.replaceTrack(track)
            await pc.setLocalDescription(await pc.createAnswer())
            kind = "answer"
        else:
            add_tracks(pc, args)
            await pc.setLocalDescription(await pc.createOffer())
            kind = "offer"
        sessions[resource] = pc

        @pc.on("connectionstatechange")
        async def changed():
            print("state", resource, pc.connectionState, flush=True)

        print("session", resource, kind, flush=True)
        return 201, {"Content-Type": "application/sdp", "Location": f"/resource/{resource}", **link}, \
            without_remb(pc.localDescription.sdp).encode()
    if path.startswith("/resource/"):
        resource = path.rsplit("/", 1)[-1]
        pc = sessions.get(resource)
        if pc is None:
            return 404, {}, b"no such resource"
        if method == "PATCH":
            for line in body.decode().splitlines():
                if line.startswith("a=candidate:"):
                    print("answer-candidate", line, flush=True)
            await pc.setRemoteDescription(RTCSessionDescription(sdp=body.decode(), type="answer"))
            print("answered", resource, flush=True)
            return 204, {}, b""
        if method == "DELETE":
            del sessions[resource]
            await pc.close()
            print("deleted", resource, flush=True)
            return 200, {}, b""
    return 405 if path in ("/whep",) or path.startswith("/resource/") else 404, {}, b""


async def serve(args, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            line = await reader.readline()
            if not line:
                return
            method, path, _ = line.decode().split(" ", 2)
            headers = {}
            while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = header.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            status, extra, payload = await handle(args, method, path, headers, body)
            lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(payload)}"] + [f"{k}: {v}" for k, v in extra.items()]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        pass
    finally:
        writer.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--server-offer", action="store_true")
    parser.add_argument("--token")
    parser.add_argument("--stun-port", type=int)
    parser.add_argument("--relay", action="store_true")
    args = parser.parse_args()
    if args.stun_port:
        await asyncio.get_running_loop().create_datagram_endpoint(STUNServer, local_addr=("127.0.0.1", args.stun_port))
    server = await asyncio.start_server(lambda r, w: serve(args, r, w), "127.0.0.1", args.port)
    print("ready", server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
