#!/usr/bin/env python3
"""Opens a recording's URL in headless Chromium (its own media page, a <video> element), as a player would: it
loads, then for each time the element's currentTime is set and, once seeked, the colour at the centre of the
frame shown is read (through a canvas: the page and the video share their origin), and again 0.2 s later.

usage: video_seek.py URL SECONDS...   (a negative SECONDS counts from the end, 'mid' is the middle)
Prints one JSON line: {"duration": s, "frames": [{"time": s, "rgb": [r, g, b], "after": [r, g, b]}], "ranges": bool, "error": "..."}.
"""
import asyncio
import json
import sys

from headless_chromium import HeadlessChromium

PROBE = """
(async () => {
  const v = document.querySelector('video');
  if (!v) return JSON.stringify({error: 'no video element: ' + document.body.innerText.slice(0, 200)});
  v.muted = true;
  await new Promise((ok, fail) => {
    if (v.readyState >= 1) return ok();
    v.addEventListener('loadedmetadata', ok, {once: true});
    v.addEventListener('error', () => fail(new Error('media error ' + (v.error && v.error.code))), {once: true});
  });
  v.pause();
  const out = {duration: v.duration, frames: []};
  for (const asked of TIMES) {
    const t = asked === 'mid' ? v.duration / 2 : asked < 0 ? v.duration + asked : asked;
    const frame = {time: 0, rgb: [], after: []};
    // Two looks, at t and 0.2 s later: a test pattern's one-frame flash can cover one of them, never both.
    for (const [when, key] of [[t, 'rgb'], [Math.min(t + 0.2, v.duration - 0.05), 'after']]) {
      const seeked = new Promise(ok => v.addEventListener('seeked', ok, {once: true}));
      v.currentTime = when;
      await Promise.race([seeked, new Promise(ok => setTimeout(ok, 10000))]);
      // The frame at the new position reaches the element shortly after 'seeked' (a paused, headless page paints lazily).
      await new Promise(ok => setTimeout(ok, 300));
      const c = document.createElement('canvas');
      c.width = v.videoWidth; c.height = v.videoHeight;
      const g = c.getContext('2d');
      g.drawImage(v, 0, 0);
      const d = g.getImageData(Math.floor(c.width / 2) - 8, Math.floor(c.height / 2) - 8, 16, 16).data;
      const rgb = [0, 0, 0];
      for (let i = 0; i < d.length; i += 4) { rgb[0] += d[i]; rgb[1] += d[i + 1]; rgb[2] += d[i + 2]; }
      if (key === 'rgb') frame.time = v.currentTime;
      frame[key] = rgb.map(x => Math.round(x / (d.length / 4)));
    }
    out.frames.push(frame);
  }
  return JSON.stringify(out);
})()
"""


async def main(url, times):
    ranges = []

    def watch(event):
        if event["method"] == "Network.requestWillBeSent":
            headers = event["params"]["request"].get("headers", {})
            ranges.extend(v for k, v in headers.items() if k.lower() == "range")

    try:
        async with HeadlessChromium("seek", 9800, ["--autoplay-policy=no-user-gesture-required"], on_event=watch) as page:
            await page.call("Network.enable")
            await page.call("Page.enable")
            await page.call("Page.navigate", url=url)
            await asyncio.sleep(1.5)
            expression = PROBE.replace("TIMES", json.dumps([t if t == "mid" else float(t) for t in times]))
            text = await page.evaluate(expression, timeout=30000)
            result = json.loads(text) if text else {"error": "the probe returned nothing"}
            result["ranges"] = bool(ranges)
    except Exception as error:  # noqa: BLE001 - reported to the test
        result = {"error": str(error)}
    print(json.dumps(result), flush=True)
    return 0 if "error" not in result else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2:])))
