#!/usr/bin/env python3
"""Drives the control page in headless Chromium over the DevTools protocol, as a person would: waits for the room
and its participant to be listed, clicks a layout preset with a real mouse event, waits for the live snapshot, and
saves a screenshot.

usage: control_page.py BASE_URL ROOM PARTICIPANT PRESET SCREENSHOT.png [TOKEN]
Prints one JSON line: {"listed": bool, "clicked": bool, "snapshot": bool, "message": "..."}; exits 1 on failure.
"""
import asyncio
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websockets


async def main(base, room, participant, preset, screenshot, token):
    port = 9300 + os.getpid() % 500
    profile = tempfile.mkdtemp(prefix="mcu-control-")
    browser = subprocess.Popen(["/usr/bin/chromium", "--headless=new", "--no-sandbox", "--disable-gpu", f"--remote-debugging-port={port}",
                                f"--user-data-dir={profile}", "--window-size=1280,1000", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    result = {"listed": False, "clicked": False, "snapshot": False, "message": ""}
    try:
        target = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json", timeout=1) as r:
                    target = next(t for t in json.load(r) if t["type"] == "page")
                break
            except Exception:
                time.sleep(0.1)
        if target is None:
            raise RuntimeError("Chromium's DevTools did not come up")
        async with websockets.connect(target["webSocketDebuggerUrl"], max_size=50_000_000) as ws:
            counter = 0

            async def call(method, **params):
                nonlocal counter
                counter += 1
                await ws.send(json.dumps({"id": counter, "method": method, "params": params}))
                while True:
                    message = json.loads(await ws.recv())
                    if message.get("id") == counter:
                        if "error" in message:
                            raise RuntimeError(f"{method}: {message['error']}")
                        return message.get("result", {})

            async def evaluate(expression):
                value = await call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
                return value.get("result", {}).get("value")

            async def until(expression, seconds=15):
                deadline = time.time() + seconds
                while time.time() < deadline:
                    if await evaluate(expression):
                        return True
                    await asyncio.sleep(0.2)
                return False

            await call("Page.enable")
            url = f"{base}/?room={room}" + (f"&token={token}" if token else "")
            await call("Page.navigate", url=url)
            result["listed"] = await until(
                f"!!document.querySelector('#rooms button[data-room=\"{room}\"]') && document.getElementById('participants').textContent.includes({json.dumps(participant)})")
            # A real click: the mouse pressed and released over the preset button.
            box = await evaluate(f"(() => {{ const r = document.querySelector('#presets button[data-preset=\"{preset}\"]').getBoundingClientRect();"
                                 " return [r.x + r.width / 2, r.y + r.height / 2]; })()")
            for kind in ("mousePressed", "mouseReleased"):
                await call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)
            result["clicked"] = await until("document.getElementById('layout-message').textContent.startsWith('in force')")
            result["message"] = await evaluate("document.getElementById('layout-message').textContent")
            result["snapshot"] = await until("document.getElementById('snapshot').naturalWidth > 0")
            await asyncio.sleep(0.5)
            shot = await call("Page.captureScreenshot", format="png")
            with open(screenshot, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
    finally:
        browser.terminate()
        try:
            browser.wait(timeout=5)
        except subprocess.TimeoutExpired:
            browser.kill()
        shutil.rmtree(profile, ignore_errors=True)
    print(json.dumps(result), flush=True)
    return 0 if result["listed"] and result["clicked"] and result["snapshot"] else 1


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(asyncio.run(main(*args[:5], args[5] if len(args) > 5 else None)))
