#!/usr/bin/env python3
"""A UDP relay that damages media on the way to the server, for loss tests on loopback.

usage: lossy_relay.py LISTEN_HOST:PORT SERVER_HOST:PORT [--loss P] [--reorder P] [--outage START:SECONDS] [--seed N]
                     [--rate KBPS [--queue MS] [--settle SECONDS]]

Every client address gets its own socket towards the server, so the server sees one address per client and
its answers find their way back. Towards the server, RTP and RTCP (first byte 128-191, RFC 7983) are dropped
with probability --loss and held back behind the next packet with probability --reorder; ICE and DTLS pass
untouched so the session comes up. During --outage (seconds after the first media packet) nothing passes
in either direction. With --rate, everything towards the server crosses a link of that many kbit/s with a
drop-tail queue of --queue ms (a home uplink): what does not fit is dropped; media counts after --settle seconds
(from the first media packet) are kept apart, to judge how a sender behaves once it has found the limit.
Counts go to stdout on exit (SIGTERM or SIGINT).
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
    def __init__(self, server, loss, reorder, outage, rng, rate=None, queue=0.1, settle=15.0):
        self.server, self.loss, self.reorder, self.outage, self.rng = server, loss, reorder, outage, rng
        self.rate, self.queue, self.settle = rate, queue, settle
        self.link_free_at = 0.0
        self.front = None
        self.upstreams = {}
        self.first_media = None
        self.counts = {"forwarded": 0, "dropped": 0, "reordered": 0, "outage": 0, "returned": 0}
        if rate is not None:
            self.counts.update({"queue_dropped": 0, "settled_media": 0, "settled_dropped": 0})

    def settled(self):
        return self.first_media is not None and time.monotonic() - self.first_media >= self.settle

    def through_link(self, up, data, media):
        """Sends `data` once the rate-limited link has carried what is queued before it; drops it if the queue is full."""
        if self.rate is None:
            up["transport"].sendto(data)
            return True
        now = time.monotonic()
        start = max(now, self.link_free_at)
        if media and self.settled():
            self.counts["settled_media"] += 1
        if start - now > self.queue:
            self.counts["queue_dropped"] += 1
            if media and self.settled():
                self.counts["settled_dropped"] += 1
            return False
        # Every datagram also carries IP and UDP headers.
        self.link_free_at = start + (len(data) + 28) * 8 / (self.rate * 1000)
        asyncio.get_running_loop().call_later(self.link_free_at - now, up["transport"].sendto, data)
        return True

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
        if self.through_link(up, data, media):
            self.counts["forwarded"] += 1
        if up["held"] is not None:
            if self.through_link(up, up["held"], True):
                self.counts["forwarded"] += 1
            up["held"] = None


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("listen", type=address)
    parser.add_argument("server", type=address)
    parser.add_argument("--loss", type=float, default=0.0)
    parser.add_argument("--reorder", type=float, default=0.0)
    parser.add_argument("--outage", type=lambda t: tuple(float(x) for x in t.split(":")))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rate", type=float, help="link rate towards the server, kbit/s")
    parser.add_argument("--queue", type=float, default=100, help="the link's queue, ms")
    parser.add_argument("--settle", type=float, default=15, help="seconds after which media counts are kept apart")
    args = parser.parse_args()
    relay = Relay(args.server, args.loss, args.reorder, args.outage, random.Random(args.seed),
                  args.rate, args.queue / 1000, args.settle)
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
