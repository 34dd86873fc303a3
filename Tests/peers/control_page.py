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
import sys

from headless_chromium import HeadlessChromium


async def main(base, room, participant, preset, screenshot, token):
    result = {"listed": False, "clicked": False, "snapshot": False, "message": ""}
    async with HeadlessChromium("control", 9300, ["--window-size=1280,1000"]) as page:
        await page.call("Page.enable")
        url = f"{base}/?room={room}" + (f"&token={token}" if token else "")
        await page.call("Page.navigate", url=url)
        result["listed"] = await page.until(
            f"!!document.querySelector('#rooms button[data-room=\"{room}\"]') && document.getElementById('participants').textContent.includes({json.dumps(participant)})")
        # A real click: the mouse pressed and released over the preset button.
        box = await page.evaluate(f"(() => {{ const r = document.querySelector('#presets button[data-preset=\"{preset}\"]').getBoundingClientRect();"
                                  " return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        for kind in ("mousePressed", "mouseReleased"):
            await page.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)
        result["clicked"] = await page.until("document.getElementById('layout-message').textContent.startsWith('in force')")
        result["message"] = await page.evaluate("document.getElementById('layout-message').textContent")
        result["snapshot"] = await page.until("document.getElementById('snapshot').naturalWidth > 0")
        await asyncio.sleep(0.5)
        shot = await page.call("Page.captureScreenshot", format="png")
        with open(screenshot, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
    print(json.dumps(result), flush=True)
    return 0 if result["listed"] and result["clicked"] and result["snapshot"] else 1


if __name__ == "__main__":
    args = sys.argv[1:]
    sys.exit(asyncio.run(main(*args[:5], args[5] if len(args) > 5 else None)))
