#!/usr/bin/env python3
"""Publishes a solid-colour test picture and a sine tone to a WHIP URL with GStreamer's webrtcbin.

    gst_publish.py WHIP_URL [--codec vp8|h264] [--bundle max-bundle|max-compat] [--seconds N]
                   [--colour 0xAARRGGBB] [--tone HZ]

Runs with Debian's python3-gi and GStreamer 1.22 packages (not the test venv). Prints 'answer STATUS' once the
server answered, then 'done' when the time is up; exits non-zero on any failure (with the reason on stderr).
"""
import argparse
import sys
import urllib.request

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstSdp", "1.0")
gi.require_version("GstWebRTC", "1.0")
gi.require_version("Nice", "0.1")
from gi.repository import GLib, Gst, GstSdp, GstWebRTC, Nice  # noqa: E402

VIDEO = {
    "vp8": "vp8enc deadline=1 keyframe-max-dist=30 target-bitrate=600000 ! rtpvp8pay picture-id-mode=15-bit"
           " ! application/x-rtp,media=video,encoding-name=VP8,payload=96",
    "h264": "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=30 bitrate=600"
            " ! video/x-h264,profile=constrained-baseline ! rtph264pay config-interval=-1 aggregate-mode=zero-latency"
            " ! application/x-rtp,media=video,encoding-name=H264,payload=102",
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("whip")
    parser.add_argument("--codec", default="vp8", choices=sorted(VIDEO))
    parser.add_argument("--bundle", default="max-bundle", choices=["max-bundle", "max-compat", "balanced"])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--colour", default="0xffff0000")
    parser.add_argument("--tone", type=float, default=440)
    args = parser.parse_args()

    Gst.init(None)
    pipeline = Gst.parse_launch(
        f"webrtcbin name=peer bundle-policy={args.bundle} "
        f"videotestsrc is-live=true pattern=solid-color foreground-color={args.colour}"
        f" ! video/x-raw,width=640,height=360,framerate=30/1 ! videoconvert ! {VIDEO[args.codec]} ! peer. "
        f"audiotestsrc is-live=true wave=sine freq={args.tone} volume=0.3 ! audioconvert ! audioresample"
        f" ! opusenc ! rtpopuspay ! application/x-rtp,media=audio,encoding-name=OPUS,payload=111 ! peer.")
    peer = pipeline.get_by_name("peer")
    # libnice leaves loopback out of its candidates when the host has another interface: the tests run on loopback.
    loopback = Nice.Address()
    loopback.set_from_string("127.0.0.1")
    ice = peer.get_property("ice-agent")
    ice.ref()  # the binding drops a reference it never took when reading this property
    ice.get_property("agent").add_local_address(loopback)
    loop = GLib.MainLoop()
    failure = []

    def fail(message):
        failure.append(message)
        loop.quit()

    def send_offer():
        offer = peer.get_property("local-description").sdp.as_text()
        try:
            request = urllib.request.Request(args.whip + "?name=GStreamer", data=offer.encode(), method="POST",
                                             headers={"Content-Type": "application/sdp"})
            with urllib.request.urlopen(request, timeout=10) as response:
                status, answer = response.status, response.read().decode()
        except Exception as error:  # the server's refusal or an unreachable server: report and stop
            fail(f"WHIP POST failed: {error}")
            return False
        print(f"answer {status}", flush=True)
        _, message = GstSdp.SDPMessage.new_from_text(answer)
        description = GstWebRTC.WebRTCSessionDescription.new(GstWebRTC.WebRTCSDPType.ANSWER, message)
        peer.emit("set-remote-description", description, None)
        GLib.timeout_add(int(args.seconds * 1000), lambda: (print("done", flush=True), loop.quit()))
        return False

    def on_gathering(element, _spec):
        if element.get_property("ice-gathering-state") == GstWebRTC.WebRTCICEGatheringState.COMPLETE:
            GLib.idle_add(send_offer)

    def on_offer(promise, _data):
        reply = promise.get_reply()
        offer = reply.get_value("offer") if reply else None
        if offer is None:
            GLib.idle_add(fail, "webrtcbin made no offer")
            return
        peer.emit("set-local-description", offer, None)

    def on_negotiation_needed(element):
        element.emit("create-offer", None, Gst.Promise.new_with_change_func(on_offer, None))

    def on_message(_bus, message):
        if message.type == Gst.MessageType.ERROR:
            error, detail = message.parse_error()
            fail(f"GStreamer error: {error.message} ({detail})")

    peer.connect("on-negotiation-needed", on_negotiation_needed)
    peer.connect("notify::ice-gathering-state", on_gathering)
    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    GLib.timeout_add(int((args.seconds + 20) * 1000), lambda: fail("timed out"))
    pipeline.set_state(Gst.State.PLAYING)
    try:
        loop.run()
    finally:
        pipeline.set_state(Gst.State.NULL)
    if failure:
        print(failure[0], file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
