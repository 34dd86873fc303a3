#!/usr/bin/env python3
"""Publishes a media file to a WHIP endpoint with aiortc (a WebRTC stack this project did not write).

usage: aiortc_publish.py WHIP_URL FILE SECONDS [NAME] [--relay]

With --relay the file's VP8 and Opus go out as they are, not decoded and encoded again (for benchmarks).
"""
import asyncio
import sys
import urllib.request

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaPlayer


async def main(url: str, path: str, seconds: float, name: str, relay: bool) -> None:
    player = MediaPlayer(path, loop=True, decode=not relay)
    pc = RTCPeerConnection()
    for track in (player.audio, player.video):
        if track is not None:
            pc.addTransceiver(track, direction="sendonly")
    await pc.setLocalDescription(await pc.createOffer())   # aiortc gathers candidates before returning
    # aiortc (1.x) re-creates its VP8 encoder when a REMB changes its bitrate, and the new encoder refuses the
    # timestamps of a looping file ("Invalid data found when processing input"): its video dies. Not offering
    # goog-remb keeps the recorder from sending REMB to it.
    offer = "".join(line for line in pc.localDescription.sdp.splitlines(True) if "goog-remb" not in line)
    request = urllib.request.Request(f"{url}?name={name}", data=offer.encode(), method="POST",
                                     headers={"Content-Type": "application/sdp"})
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != 201:
            raise SystemExit(f"WHIP answered {response.status}")
        location = response.headers["Location"]
        answer = response.read().decode()
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    for _ in range(100):
        if pc.connectionState == "connected":
            break
        await asyncio.sleep(0.1)
    print("state", pc.connectionState, flush=True)
    await asyncio.sleep(seconds)
    base = url.split("/rooms/")[0]
    urllib.request.urlopen(urllib.request.Request(base + location, method="DELETE"), timeout=10).close()
    await pc.close()


if __name__ == "__main__":
    arguments = [a for a in sys.argv[1:] if a != "--relay"]
    asyncio.run(main(arguments[0], arguments[1], float(arguments[2]), arguments[3] if len(arguments) > 3 else "aiortc", "--relay" in sys.argv))
