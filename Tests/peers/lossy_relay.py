#!/usr/bin/env python3
"""A UDP relay that damages media on the way to the server, for loss tests on loopback.

usage: lossy_relay.py LISTEN_HOST:PORT SERVER_HOST:PORT [--loss P] [--reorder P] [--outage START:SECONDS] [--seed N]

Every client address gets its own socket towards the server, so the server sees one address per client and
its answers find their way back. Towards the server, RTP and RTCP (first byte 128-191, RFC 7983) are dropped
with probability --loss and held back behind the next packet with probability --reorder; ICE and DTLS pass
untouched so the session comes up. During --outage (seconds after the first media packet) nothing passes
in either direction. Counts go to stdout on exit (SIGTERM or SIGINT).
"""
import argparse
import asyncio
import random
import signal
import time


def address(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


class Relay:
    def __init__(self, server, loss, reorder, outage, rng):
        self.server, self.loss, self.reorder, self.outage, self.rng = server, loss, reorder, outage, rng
        self.front = None
        self.upstreams = {}
        self.first_media = None
        self.counts = {"forwarded": 0, "dropped": 0, "reordered": 0, "outage": 0, "returned": 0}

    def in_outage(self):
        if self.outage is None or self.first_media is None:
            return False
        start, length = self.outage
        elapsed = time.monotonic() - self.first_media
        return start <= elapsed < start + length

    async def upstream(self, client):
        # One future per client, stored before the first await, so packets racing in share one socket.
        if client not in self.upstreams:
            self.upstreams[client] = asyncio.get_running_loop().create_task(self.open(client))
        return await self.upstreams[client]

    async def open(self, client):
        relay = self

        class Back(asyncio.DatagramProtocol):
            def datagram_received(self, data, _):
                if relay.in_outage():
                    relay.counts["outage"] += 1
                    return
                relay.counts["returned"] += 1
                relay.front.sendto(data, client)

        transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(Back, remote_addr=self.server)
        return {"transport": transport, "held": None}

    async def forward(self, data, client):
        up = await self.upstream(client)
        media = len(data) > 0 and 128 <= data[0] <= 191
        if media and self.first_media is None:
            self.first_media = time.monotonic()
        if self.in_outage():
            self.counts["outage"] += 1
            return
        if media and self.rng.random() < self.loss:
            self.counts["dropped"] += 1
            return
        if media and up["held"] is None and self.rng.random() < self.reorder:
            up["held"] = data
            self.counts["reordered"] += 1
            return
        up["transport"].sendto(data)
        self.counts["forwarded"] += 1
        if up["held"] is not None:
            up["transport"].sendto(up["held"])
            up["held"] = None
            self.counts["forwarded"] += 1


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("listen", type=address)
    parser.add_argument("server", type=address)
    parser.add_argument("--loss", type=float, default=0.0)
    parser.add_argument("--reorder", type=float, default=0.0)
    parser.add_argument("--outage", type=lambda t: tuple(float(x) for x in t.split(":")))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    relay = Relay(args.server, args.loss, args.reorder, args.outage, random.Random(args.seed))
    loop = asyncio.get_running_loop()

    class Front(asyncio.DatagramProtocol):
        def datagram_received(self, data, client):
            loop.create_task(relay.forward(data, client))

    relay.front, _ = await loop.create_datagram_endpoint(Front, local_addr=args.listen)
    print("relay ready", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    # The test runner may hand its children a blocked SIGTERM; it would never arrive.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    await stop.wait()
    print(" ".join(f"{k}={v}" for k, v in relay.counts.items()), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
