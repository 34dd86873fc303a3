#!/usr/bin/env python3
"""Sends a solid-colour VP8 picture over plain RTP with GStreamer's rtpbin, listening for RTCP on the port it
sends RTCP from (as an SFU's RTP forwarder does), so a receiver's PLI reaches the encoder.

    gst_rtp_send.py HOST RTP_PORT RTCP_PORT [--seconds N] [--colour 0xAARRGGBB] [--hold SECONDS] [--mute START:SECONDS]

The encoder makes one keyframe at the start and no more on its own (keyframe-max-dist 100000); --hold drops
everything sent before that many seconds, that keyframe with it, so the receiver starts without one and the
picture appears only if its keyframe request is answered. --mute stops sending for a while (a muted camera, a
paused consumer) and resumes with delta frames: the picture comes back only by a keyframe request too. Runs with Debian's python3-gi and GStreamer packages.
Prints 'sending' when the valve opens and 'done' at the end; 'keyframe requests N' on exit.
"""
import argparse
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("host")
    parser.add_argument("rtp_port", type=int)
    parser.add_argument("rtcp_port", type=int)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--hold", type=float, default=1.5)
    parser.add_argument("--colour", default="0xffff0000")
    parser.add_argument("--mute", type=lambda t: tuple(float(x) for x in t.split(":")))
    args = parser.parse_args()
    Gst.init(None)
    pipeline = Gst.parse_launch(
        f"rtpbin name=rb rtp-profile=avpf "
        f"videotestsrc is-live=true pattern=solid-color foreground-color={int(args.colour, 16)} "
        f"! video/x-raw,width=320,height=240,framerate=30/1 ! videoconvert "
        f"! vp8enc name=enc deadline=1 keyframe-max-dist=100000 target-bitrate=300000 "
        f"! rtpvp8pay picture-id-mode=15-bit ! application/x-rtp,media=video,encoding-name=VP8,payload=96 ! rb.send_rtp_sink_0 "
        f"rb.send_rtp_src_0 ! valve name=valve drop=true ! udpsink host={args.host} port={args.rtp_port} sync=false async=false "
        f"udpsrc name=rtcpin port=0 ! rb.recv_rtcp_sink_0 "
        f"rb.send_rtcp_src_0 ! udpsink name=rtcpout host={args.host} port={args.rtcp_port} sync=false async=false"
    )
    rtcp_in, rtcp_out = pipeline.get_by_name("rtcpin"), pipeline.get_by_name("rtcpout")
    loop = GLib.MainLoop()
    requests = {"count": 0}

    def on_bus(_bus, message):
        if message.type == Gst.MessageType.ERROR:
            error, debug = message.parse_error()
            print(f"GStreamer error: {error.message} {debug}", file=sys.stderr, flush=True)
            loop.quit()
        return True

    def on_force_key_unit(_pad, info):
        event = info.get_event()
        if event.type == Gst.EventType.CUSTOM_UPSTREAM and event.get_structure().get_name() == "GstForceKeyUnit":
            requests["count"] += 1
        return Gst.PadProbeReturn.OK

    pipeline.get_by_name("enc").get_static_pad("src").add_probe(Gst.PadProbeType.EVENT_UPSTREAM, on_force_key_unit)
    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_bus)
    # RTCP leaves from the socket it is received on: the receiver answers the address it hears from.
    # (The sink takes the socket only before it opens its own, in READY: the source alone goes first.)
    rtcp_in.set_state(Gst.State.READY)
    socket = rtcp_in.get_property("used-socket")
    if socket is None:
        print("no RTCP socket to share", file=sys.stderr, flush=True)
        return 1
    rtcp_out.set_property("socket", socket)
    pipeline.set_state(Gst.State.PLAYING)

    def open_valve():
        pipeline.get_by_name("valve").set_property("drop", False)
        print("sending", flush=True)
        return False

    GLib.timeout_add(int(args.hold * 1000), open_valve)
    if args.mute:
        def mute():
            pipeline.get_by_name("valve").set_property("drop", True)
            print("muted", flush=True)
            return False
        GLib.timeout_add(int(args.mute[0] * 1000), mute)
        GLib.timeout_add(int((args.mute[0] + args.mute[1]) * 1000), open_valve)
    GLib.timeout_add(int(args.seconds * 1000), loop.quit)
    try:
        loop.run()
    finally:
        print(f"keyframe requests {requests['count']}", flush=True)
        pipeline.set_state(Gst.State.NULL)
    print("done", flush=True)


if __name__ == "__main__":
    sys.exit(main())
