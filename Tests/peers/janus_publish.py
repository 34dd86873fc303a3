#!/usr/bin/env python3
"""Publishes a media file into a Janus VideoRoom with aiortc, through Janus's HTTP API (no browser, no janus.js).

usage: janus_publish.py JANUS_URL ROOM DISPLAY FILE SECONDS [--pin P] [--republish]

Joins ROOM as a publisher named DISPLAY, publishes FILE (looped) for SECONDS, then leaves. With --republish, a
Janus that goes away (its HTTP API unreachable, the session gone) is waited for and published to again. Prints
"published", "lost", "left" as it goes.
"""
import argparse
import asyncio
import json
import random
import string
import time
import urllib.error
import urllib.request

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer


def transaction() -> str:
    return "".join(random.choices(string.ascii_letters, k=12))


class Janus:
    """One Janus session with one VideoRoom handle, over blocking HTTP (run in executor threads)."""

    def __init__(self, url: str):
        self.url = url
        self.session = self.post(url, {"janus": "create"})["data"]["id"]
        self.handle = self.post(f"{url}/{self.session}", {"janus": "attach", "plugin": "janus.plugin.videoroom"})["data"]["id"]

    @staticmethod
    def post(url: str, body: dict) -> dict:
        body = dict(body, transaction=transaction())
        request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            reply = json.loads(response.read())
        if reply.get("janus") == "error":
            raise RuntimeError(f"janus error: {reply}")
        return reply

    def message(self, body: dict, jsep: dict | None = None) -> None:
        request = {"janus": "message", "body": body}
        if jsep:
            request["jsep"] = jsep
        self.post(f"{self.url}/{self.session}/{self.handle}", request)

    def events(self) -> list:
        """One long poll (at most ~30 s); raises when Janus or the session is gone."""
        with urllib.request.urlopen(f"{self.url}/{self.session}?maxev=10", timeout=40) as response:
            reply = json.loads(response.read())
        events = reply if isinstance(reply, list) else [reply]
        for event in events:
            if event.get("janus") == "error":
                raise RuntimeError(f"janus error: {event}")
        return events

    def wait(self, predicate, seconds: float = 15) -> dict:
        deadline = time.time() + seconds
        while time.time() < deadline:
            for event in self.events():
                if predicate(event):
                    return event
        raise TimeoutError("no such event from Janus")


async def publish_once(args, loop) -> bool:
    """Publishes until SECONDS have passed (True) or Janus is lost (False)."""
    janus = await loop.run_in_executor(None, Janus, args.url)
    join = {"request": "join", "ptype": "publisher", "room": args.room, "display": args.display}
    if args.pin:
        join["pin"] = args.pin
    await loop.run_in_executor(None, janus.message, join)
    await loop.run_in_executor(None, janus.wait, lambda e: e.get("plugindata", {}).get("data", {}).get("videoroom") == "joined")
    player = MediaPlayer(args.file, loop=True)
    pc = RTCPeerConnection()
    for track in (player.audio, player.video):
        if track is not None:
            pc.addTransceiver(track, direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())
    # aiortc re-creates its VP8 encoder when a REMB changes its bitrate, and the new encoder refuses a looping
    # file's timestamps; not offering goog-remb keeps REMB away.
    offer = "".join(line for line in pc.localDescription.sdp.splitlines(True) if "goog-remb" not in line)
    await loop.run_in_executor(None, janus.message, {"request": "configure", "audio": True, "video": True}, {"type": "offer", "sdp": offer})
    answer = await loop.run_in_executor(None, janus.wait, lambda e: "jsep" in e)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer["jsep"]["sdp"], type="answer"))
    print("published", args.display, flush=True)
    try:
        while time.monotonic() < args.end:
            # A keep-alive every second: it also tells at once when Janus or the session is gone.
            await loop.run_in_executor(None, janus.post, f"{args.url}/{janus.session}", {"janus": "keepalive"})
            await asyncio.sleep(1)
    except (OSError, RuntimeError, ValueError):
        print("lost", args.display, flush=True)
        await pc.close()
        return False
    try:
        await loop.run_in_executor(None, janus.message, {"request": "leave"})
        await loop.run_in_executor(None, janus.post, f"{args.url}/{janus.session}", {"janus": "destroy"})
    except (OSError, RuntimeError):
        pass
    await pc.close()
    print("left", args.display, flush=True)
    return True


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("room", type=int)
    parser.add_argument("display")
    parser.add_argument("file")
    parser.add_argument("seconds", type=float)
    parser.add_argument("--pin")
    parser.add_argument("--republish", action="store_true")
    args = parser.parse_args()
    args.end = time.monotonic() + args.seconds
    loop = asyncio.get_running_loop()
    while time.monotonic() < args.end:
        try:
            if await publish_once(args, loop) or not args.republish:
                return
        except (OSError, RuntimeError, TimeoutError, ValueError) as error:
            if not args.republish:
                raise
            print("retrying", error, flush=True)
            await asyncio.sleep(1)


if __name__ == "__main__":
    asyncio.run(main())
