import Hummingbird

/// The page at /rooms/{room}: publishes the browser's camera and microphone over WHIP. Plain HTML and JS.
/// `?signal=test` sends a test signal instead (a white flash and a 1 kHz beep of 100 ms at every second of the audio
/// clock): a room can be checked, sync included, from a machine without a camera.
enum JoinPage {
    /// A browser asking for a room gets this page; API clients (asking for JSON) get the room.
    static func isWanted(by request: Request) -> Bool {
        let accept = request.headers[.accept] ?? ""
        return accept.contains("text/html") && !accept.contains("application/json")
    }

    static func html(room: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Join \(room) — mcu-record</title>
        <style>
        body { font: 16px system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
        video { width: 100%; background: #111; border-radius: 6px; aspect-ratio: 16 / 9; }
        input, button { font: inherit; padding: .4rem .8rem; } #status { margin-left: .5rem; color: #555; }
        </style></head>
        <body>
        <h1>Room <code>\(room)</code></h1>
        <p>Your camera and microphone are recorded by the server while you are joined.</p>
        <video id="preview" autoplay muted playsinline></video>
        <p><input id="name" placeholder="Your name" aria-label="Your name">
        <button id="join">Join</button> <button id="leave" disabled>Leave</button><span id="status" role="status">not joined</span></p>
        <script>
        const room = \(jsonString(room));
        let pc = null, location_ = null;
        const status = (text) => document.getElementById('status').textContent = text;
        const params = new URLSearchParams(window.location.search), token = params.get('token');
        const headers = (extra) => Object.assign(token ? { 'Authorization': 'Bearer ' + token } : {}, extra || {});
        async function join() {
          document.getElementById('join').disabled = true;
          try {
            status('asking for camera and microphone…');
            const stream = params.get('signal') === 'test' ? testSignal()
              : await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
            document.getElementById('preview').srcObject = stream;
            pc = new RTCPeerConnection();
            for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendonly', streams: [stream] });
            pc.onconnectionstatechange = () => status(pc.connectionState);
            await pc.setLocalDescription(await pc.createOffer());
            await new Promise((resolve) => {
              if (pc.iceGatheringState === 'complete') return resolve();
              pc.onicegatheringstatechange = () => pc.iceGatheringState === 'complete' && resolve();
              setTimeout(resolve, 2000);
            });
            const name = document.getElementById('name').value || 'guest';
            const response = await fetch('/rooms/' + encodeURIComponent(room) + '/whip?name=' + encodeURIComponent(name),
              { method: 'POST', headers: headers({ 'Content-Type': 'application/sdp' }), body: pc.localDescription.sdp });
            if (response.status !== 201) throw new Error(await response.text());
            location_ = response.headers.get('Location');
            await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
            status('connecting…');
            document.getElementById('leave').disabled = false;
          } catch (error) {
            status('could not join: ' + error.message);
            document.getElementById('join').disabled = false;
          }
        }
        function testSignal() {
          const canvas = Object.assign(document.createElement('canvas'), { width: 640, height: 360 });
          const g = canvas.getContext('2d'), audio = new AudioContext();
          const tone = audio.createOscillator(), gain = audio.createGain(), out = audio.createMediaStreamDestination();
          tone.frequency.value = 1000; gain.gain.value = 0;
          tone.connect(gain).connect(out); tone.start();
          // Both from the audio clock: beeps scheduled on it, flashes drawn when it is in a beep.
          let next = Math.ceil(audio.currentTime) + 1;
          setInterval(() => {
            for (; next < audio.currentTime + 2; next += 1) { gain.gain.setValueAtTime(0.5, next); gain.gain.setValueAtTime(0, next + 0.1); }
            const t = audio.currentTime, flash = t >= 1 && t % 1 < 0.1;
            g.fillStyle = flash ? '#ffffff' : '#2060c0'; g.fillRect(0, 0, 640, 360);
            g.fillStyle = flash ? '#2060c0' : '#ffffff'; g.font = '32px sans-serif'; g.fillText('test signal ' + t.toFixed(1), 24, 48);
          }, 5);
          return new MediaStream([canvas.captureStream().getVideoTracks()[0], out.stream.getAudioTracks()[0]]);
        }
        async function leave() {
          if (location_) await fetch(location_, { method: 'DELETE', headers: headers() }).catch(() => {});
          if (pc) pc.close();
          pc = null; location_ = null;
          status('left');
          document.getElementById('join').disabled = false;
          document.getElementById('leave').disabled = true;
        }
        if (params.get('name')) document.getElementById('name').value = params.get('name');
        document.getElementById('join').onclick = join;
        if (params.get('autojoin') === '1') join();
        document.getElementById('leave').onclick = leave;
        window.addEventListener('pagehide', leave);
        </script>
        </body></html>
        """
    }

    static func jsonString(_ s: String) -> String {
        "\"" + s.unicodeScalars.map { c in
            switch c {
            case "\"": "\\\""
            case "\\": "\\\\"
            case "<": "\\u003c"
            default:
                if c.isASCII && c.value >= 0x20 { String(c) } else {
                    "\\u" + String(repeating: "0", count: max(0, 4 - String(c.value, radix: 16).count)) + String(c.value, radix: 16)
                }
            }
        }.joined() + "\""
    }
}
