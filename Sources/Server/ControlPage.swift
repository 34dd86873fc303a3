/// The control page at `/`: rooms, participants and their stats, layout presets and a JSON editor, pin / hide /
/// mute, recording start and stop, chat, and the live snapshot. Plain HTML, CSS and JS over the REST API; the
/// token (if the server has one) is typed in once and kept in the browser's local storage.
enum ControlPage {
    static let html = #"""
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>mcu-record — control</title>
<style>
* { box-sizing: border-box; }
body { font: 15px system-ui, sans-serif; margin: 0; color: #1d232a; background: #f4f5f7; }
header { display: flex; gap: 1rem; align-items: center; padding: .6rem 1rem; background: #1d232a; color: #fff; }
header h1 { font-size: 1.1rem; margin: 0; flex: 1; }
header input { width: 16rem; }
main { display: grid; grid-template-columns: 14rem 1fr; gap: 1rem; padding: 1rem; }
section { background: #fff; border-radius: 6px; padding: .8rem 1rem; margin-bottom: 1rem; box-shadow: 0 1px 2px #0002; }
h2 { font-size: 1rem; margin: 0 0 .6rem; }
#rooms button { display: block; width: 100%; text-align: left; margin-bottom: .3rem; }
#rooms button.selected { background: #2d6cdf; color: #fff; }
button, input, textarea, select { font: inherit; padding: .3rem .6rem; border: 1px solid #bbb; border-radius: 4px; background: #fff; }
button { cursor: pointer; } button:hover { background: #eef2fb; } button.on { background: #ffe9a8; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th, td { text-align: left; padding: .25rem .4rem; border-bottom: 1px solid #eee; vertical-align: top; }
#snapshot { width: 100%; max-width: 48rem; background: #000; aspect-ratio: 16 / 9; display: block; border-radius: 4px; }
#layout-json { width: 100%; height: 10rem; font: 13px ui-monospace, monospace; }
.error { color: #b00020; white-space: pre-wrap; } .muted { color: #667; }
.row { display: flex; gap: .5rem; flex-wrap: wrap; align-items: center; }
#chat-text { flex: 1; min-width: 12rem; }
</style></head>
<body>
<header><h1>mcu-record</h1><label>Token <input id="token" type="password" autocomplete="off" placeholder="bearer token (if any)"></label></header>
<main>
<nav><section><h2>Rooms</h2><div id="rooms" class="muted">loading…</div>
<p class="row"><input id="new-room" placeholder="new room" size="10"><button id="create">Record</button></p></section></nav>
<div id="detail" hidden>
  <section><h2 id="room-title">Room</h2>
    <p class="row"><span id="recording-state" class="muted"></span><button id="start">Start recording</button><button id="stop">Stop recording</button></p>
    <img id="snapshot" alt="live composite">
  </section>
  <section><h2>Participants</h2><table><thead><tr><th>Name</th><th>Tracks</th><th></th></tr></thead><tbody id="participants"></tbody></table></section>
  <section><h2>Layout</h2>
    <p class="row" id="presets"></p>
    <textarea id="layout-json" spellcheck="false" aria-label="layout JSON"></textarea>
    <p class="row"><button id="apply">Apply JSON</button><span id="layout-message"></span></p>
  </section>
  <section><h2>Chat</h2><p class="row"><input id="chat-from" placeholder="from" size="10"><input id="chat-text" placeholder="message"><button id="send">Send</button><span id="chat-message"></span></p></section>
</div>
</main>
<script>
const presets = ['grid', 'speaker', 'pip', 'presentation', 'single'];
const $ = (id) => document.getElementById(id);
let selected = new URLSearchParams(location.search).get('room');
let snapshotURL = null, editing = false;
$('token').value = localStorage.getItem('mcu-token') || new URLSearchParams(location.search).get('token') || '';
$('token').addEventListener('change', () => { localStorage.setItem('mcu-token', $('token').value); refresh(); });

async function api(method, path, body) {
  const headers = {};
  if ($('token').value) headers['Authorization'] = 'Bearer ' + $('token').value;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)) });
  if (!response.ok) {
    let problem = { detail: response.statusText };
    try { problem = await response.json(); } catch (_) {}
    throw new Error((problem.field ? problem.field + ': ' : '') + (problem.detail || response.status));
  }
  return response;
}
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
const seconds = (s) => { s = Math.floor(s); return Math.floor(s / 60) + ':' + String(s % 60).padStart(2, '0'); };

function renderRooms(rooms) {
  const box = $('rooms');
  if (!rooms.length) { box.textContent = 'no rooms yet'; return; }
  box.innerHTML = '';
  for (const room of rooms) {
    const b = document.createElement('button');
    b.textContent = room.name + ' (' + room.participants.length + ')' + (room.recording.active ? ' ●' : '');
    b.dataset.room = room.name;
    if (room.name === selected) b.className = 'selected';
    b.onclick = () => { selected = room.name; editing = false; refresh(); };
    box.appendChild(b);
  }
  if (!selected || !rooms.some((r) => r.name === selected)) selected = rooms[0].name;
}

function renderRoom(room) {
  $('detail').hidden = false;
  $('room-title').textContent = 'Room ' + room.name;
  const r = room.recording;
  $('recording-state').textContent = r.active ? 'recording ' + r.file + ' — ' + seconds(r.duration) + ', ' + (r.size / 1e6).toFixed(1) + ' MB' : 'not recording';
  $('start').disabled = r.active; $('stop').disabled = !r.active;
  const rows = room.participants.map((p) => {
    const tracks = p.tracks.map((t) => esc(t.kind + ' ' + (t.codec || '') + (t.width ? ' ' + t.width + '×' + t.height + ' ' + t.recent_fps + ' fps' : '')
      + ' ' + Math.round(t.recent_bitrate / 1000) + ' kb/s now, loss ' + (t.loss * 100).toFixed(1) + ' %')).join('<br>');
    return '<tr data-participant="' + esc(p.id) + '"><td>' + esc(p.name) + (p.frozen > 0.5 ? '<br><span class="muted">frozen ' + p.frozen.toFixed(1) + ' s</span>' : '') + '</td><td>' + tracks + '</td><td class="row">'
      + '<button data-action="pin" class="' + (p.pinned ? 'on' : '') + '">' + (p.pinned ? 'Unpin' : 'Pin') + '</button>'
      + '<button data-action="hide" class="' + (p.hidden ? 'on' : '') + '">' + (p.hidden ? 'Show' : 'Hide') + '</button>'
      + '<button data-action="mute" class="' + (p.muted ? 'on' : '') + '">' + (p.muted ? 'Unmute' : 'Mute') + '</button></td></tr>';
  });
  $('participants').innerHTML = rows.join('') || '<tr><td colspan="3" class="muted">nobody here</td></tr>';
  for (const row of $('participants').querySelectorAll('tr[data-participant]')) {
    const p = room.participants.find((x) => x.id === row.dataset.participant);
    for (const b of row.querySelectorAll('button')) {
      b.onclick = async () => {
        const change = { pin: { pin: !p.pinned }, hide: { hide: !p.hidden }, mute: { mute: !p.muted } }[b.dataset.action];
        try { await api('PATCH', '/rooms/' + room.name + '/participants/' + p.id, change); } catch (e) { alert(e.message); }
        refresh();
      };
    }
  }
  if (!editing) $('layout-json').value = JSON.stringify(room.layout, null, 2);
  for (const b of $('presets').querySelectorAll('button')) b.classList.toggle('on', room.layout && room.layout.name === b.dataset.preset);
}

async function applyLayout(body) {
  $('layout-message').className = ''; $('layout-message').textContent = 'applying…';
  try {
    const response = await api('PUT', '/rooms/' + selected + '/layout', body);
    const frame = response.headers.get('Layout-Frame');
    $('layout-message').textContent = 'in force' + (frame ? ' from frame ' + frame : '');
    editing = false;
  } catch (e) { $('layout-message').className = 'error'; $('layout-message').textContent = e.message; }
  refresh();
}

for (const name of presets) {
  const b = document.createElement('button');
  b.textContent = name; b.dataset.preset = name;
  b.onclick = () => applyLayout({ preset: name });
  $('presets').appendChild(b);
}
$('layout-json').addEventListener('input', () => { editing = true; });
$('apply').onclick = () => applyLayout($('layout-json').value);
$('start').onclick = async () => { try { await api('POST', '/rooms/' + selected + '/recording'); } catch (e) { alert(e.message); } refresh(); };
$('stop').onclick = async () => {
  try { const r = await (await api('DELETE', '/rooms/' + selected + '/recording')).json(); alert('saved ' + r.file + ' (' + seconds(r.duration) + ')'); } catch (e) { alert(e.message); }
  refresh();
};
$('create').onclick = async () => {
  const name = $('new-room').value.trim();
  if (!name) return;
  try { await api('POST', '/rooms/' + encodeURIComponent(name) + '/recording'); selected = name; } catch (e) { alert(e.message); }
  refresh();
};
$('send').onclick = async () => {
  try {
    const r = await (await api('POST', '/rooms/' + selected + '/chat', { from: $('chat-from').value, text: $('chat-text').value })).json();
    $('chat-message').className = 'muted'; $('chat-message').textContent = 'shown at ' + seconds(r.time); $('chat-text').value = '';
  } catch (e) { $('chat-message').className = 'error'; $('chat-message').textContent = e.message; }
};

async function refresh() {
  try {
    const { rooms } = await (await api('GET', '/rooms')).json();
    renderRooms(rooms);
    const room = rooms.find((r) => r.name === selected);
    if (room) renderRoom(room);
  } catch (e) { $('rooms').innerHTML = '<span class="error">' + esc(e.message) + '</span>'; }
}

async function refreshSnapshot() {
  if (!selected) return;
  try {
    const blob = await (await api('GET', '/rooms/' + selected + '/snapshot.jpg')).blob();
    const url = URL.createObjectURL(blob);
    $('snapshot').src = url;
    if (snapshotURL) URL.revokeObjectURL(snapshotURL);
    snapshotURL = url;
  } catch (_) { /* not recording: keep the last picture */ }
}
refresh();
setInterval(refresh, 2000);
setInterval(refreshSnapshot, 1000);
</script>
</body></html>
"""#
}
