"""Headless Chromium driven over the DevTools protocol, for the peers that open a page as a person would
(control_page.py, video_seek.py): the browser in a profile of its own, its page's WebSocket, and `call`/`evaluate`.
Every event the page sends is passed to `on_event` (e.g. to watch the network)."""
import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request

import websockets


class HeadlessChromium:
    def __init__(self, name, port_base, arguments=(), on_event=None):
        self.port = port_base + os.getpid() % 500
        self.profile = tempfile.mkdtemp(prefix=f"mcu-{name}-")
        self.arguments = list(arguments)
        self.on_event = on_event
        self.counter = 0
        self.browser = None
        self.socket = None

    async def __aenter__(self):
        self.browser = subprocess.Popen(["/usr/bin/chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
                                         f"--remote-debugging-port={self.port}", f"--user-data-dir={self.profile}",
                                         *self.arguments, "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        target = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json", timeout=1) as r:
                    target = next(t for t in json.load(r) if t["type"] == "page")
                break
            except Exception:  # noqa: BLE001 - not up yet
                await asyncio.sleep(0.1)
        if target is None:
            await self.__aexit__(None, None, None)
            raise RuntimeError("Chromium's DevTools did not come up")
        self.socket = await websockets.connect(target["webSocketDebuggerUrl"], max_size=50_000_000)
        return self

    async def __aexit__(self, *_):
        if self.socket is not None:
            await self.socket.close()
        if self.browser is not None:
            self.browser.terminate()
            try:
                self.browser.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.browser.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    async def call(self, method, **params):
        """One DevTools command; its result (raises on an error answer)."""
        self.counter += 1
        asked = self.counter
        await self.socket.send(json.dumps({"id": asked, "method": method, "params": params}))
        while True:
            message = json.loads(await self.socket.recv())
            if "method" in message and self.on_event:
                self.on_event(message)
            if message.get("id") == asked:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    async def evaluate(self, expression, **options):
        """The value of a JavaScript expression in the page (promises awaited)."""
        value = await self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True, **options)
        return value.get("result", {}).get("value")

    async def until(self, expression, seconds=15):
        """Whether `expression` became true within `seconds`."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            if await self.evaluate(expression):
                return True
            await asyncio.sleep(0.2)
        return False
