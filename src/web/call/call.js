/**
 * The web call page (API.md, Web calls): microphone → AudioWorklet (16 kHz PCM16, 20 ms frames)
 * → WebSocket `/web/media?token=…`; agent audio ← WebSocket → AudioWorklet player with a small
 * jitter buffer; `{"type":"clear"}` drops queued audio at once; the call's events (the SSE
 * stream's shapes) drive a live transcript. No build step, no framework.
 *
 * The token comes from this page's URL. Nothing connects until the person presses Start: the
 * token is single-use, so a link preview or a reload never burns it, and browsers only start
 * audio after a gesture anyway. Tests read `window.voxgate` and the data attributes.
 */

const $ = (id) => document.getElementById(id);
const ui = {
  main: $('call'),
  status: $('status'),
  statusText: $('status-text'),
  notice: $('notice'),
  start: $('start'),
  mute: $('mute'),
  end: $('end'),
  micLevel: $('mic-level'),
  meter: document.querySelector('.meter'),
  speaking: $('speaking'),
  transcript: $('transcript'),
  empty: $('transcript-empty'),
  agentName: $('agent-name'),
};

const STATE_TEXT = { ready: 'Ready', connecting: 'Connecting…', live: 'Live', ending: 'Ending…', ended: 'Call ended', error: 'Not connected' };

/** Counters and state for tests and for anyone debugging in the console. */
const stats = {
  state: 'ready',
  framesSent: 0,
  bytesSent: 0,
  bytesReceived: 0,
  audioMessages: 0,
  clears: 0,
  events: 0,
  interruptions: 0,
  closeCode: null,
  closeReason: null,
  endReason: null,
  error: null,
};
window.voxgate = stats;

const token = new URLSearchParams(location.search).get('token');
let ws = null;
let audio = null; // { context, stream, capture, player }
let muted = false;
let endTimer = null;
/** The transcript item being spoken right now, per role (partials update it in place). */
const open = { user: null, agent: null };

function setState(state, text) {
  stats.state = state;
  ui.main.dataset.state = state;
  ui.status.dataset.state = state;
  ui.statusText.textContent = text ?? STATE_TEXT[state];
  const inCall = state === 'connecting' || state === 'live';
  ui.start.disabled = state !== 'ready';
  ui.start.hidden = state !== 'ready';
  ui.mute.disabled = state !== 'live';
  ui.end.disabled = !inCall;
}

function notify(message, kind = 'error') {
  ui.notice.textContent = message;
  ui.notice.className = kind === 'error' ? 'notice' : 'notice info';
  ui.notice.hidden = false;
}

function fail(message) {
  stats.error = message;
  notify(message);
  setState('error');
  teardown();
}

/** Friendly words for the server's close reasons (`<reason>: <detail>`, media-route.ts). */
function closeMessage(code, reason) {
  const kind = (reason || '').split(':')[0];
  if (code === 1008) {
    if (kind === 'token_reused') return 'This call link has already been used. Ask for a new link to call again.';
    if (kind === 'token_expired') return 'This call link has expired (links work for 5 minutes). Ask for a new link.';
    if (kind === 'token_invalid' || kind === 'token_missing') return 'This call link is not valid. Check that you copied all of it.';
    if (kind === 'call_mismatch') return 'This call is no longer available. Ask for a new link.';
    return `The call was refused (${reason || 'policy'}).`;
  }
  if (code === 1013) return 'The service is restarting. Please start a new call in a moment.';
  return 'The connection was lost.';
}

async function start() {
  if (!token) return fail('This page needs a call link with a token. Ask for a new link.');
  setState('connecting');
  ui.notice.hidden = true;
  try {
    const context = new AudioContext({ latencyHint: 'interactive' });
    await context.resume();
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true, autoGainControl: true },
      });
    } catch (err) {
      await context.close().catch(() => {});
      const refused = err && (err.name === 'NotAllowedError' || err.name === 'SecurityError');
      stats.error = refused ? 'microphone_refused' : 'microphone_unavailable';
      notify(
        refused
          ? 'Microphone access was refused. Allow the microphone for this site (the icon in the address bar), then press Start call again.'
          : `No microphone is available (${err && err.name ? err.name : 'error'}). Connect one and press Start call again.`,
      );
      // The token was not used: the person can fix the permission and try again.
      setState('ready', 'Microphone needed');
      return;
    }
    await context.audioWorklet.addModule('/web/call/audio-worklet.js');
    const source = context.createMediaStreamSource(stream);
    const capture = new AudioWorkletNode(context, 'voxgate-capture', { numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1] });
    const player = new AudioWorkletNode(context, 'voxgate-player', { numberOfInputs: 0, numberOfOutputs: 1, outputChannelCount: [1] });
    source.connect(capture);
    // The capture node outputs silence; connecting it keeps it processing in every browser.
    capture.connect(context.destination);
    player.connect(context.destination);
    audio = { context, stream, capture, player };
    capture.port.onmessage = (ev) => onCaptured(ev.data);
    player.port.onmessage = (ev) => {
      ui.speaking.hidden = ev.data.type !== 'playing';
    };
    connect();
  } catch (err) {
    fail(`The call could not start: ${err && err.message ? err.message : err}`);
  }
}

function connect() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  ws = new WebSocket(`${scheme}//${location.host}/web/media?token=${encodeURIComponent(token)}`);
  ws.binaryType = 'arraybuffer';
  ws.onmessage = (ev) => (typeof ev.data === 'string' ? onJson(ev.data) : onAudio(ev.data));
  ws.onclose = (ev) => onClose(ev.code, ev.reason);
}

function onCaptured(msg) {
  if (msg.type !== 'frame') return;
  const level = muted ? 0 : Math.min(100, Math.round(Math.sqrt(msg.peak) * 100));
  ui.micLevel.style.width = `${level}%`;
  ui.meter.setAttribute('aria-valuenow', String(level));
  if (!ws || ws.readyState !== WebSocket.OPEN || (stats.state !== 'live' && stats.state !== 'connecting')) return;
  ws.send(msg.pcm);
  stats.framesSent++;
  stats.bytesSent += msg.pcm.byteLength;
}

function onAudio(buf) {
  stats.bytesReceived += buf.byteLength;
  stats.audioMessages++;
  if (stats.state === 'connecting') setState('live');
  audio?.player.port.postMessage({ type: 'audio', pcm: buf }, [buf]);
}

function onJson(text) {
  let msg;
  try {
    msg = JSON.parse(text);
  } catch {
    return;
  }
  if (msg.type === 'clear') {
    stats.clears++;
    audio?.player.port.postMessage({ type: 'clear' });
    return;
  }
  stats.events++;
  const data = msg.data || {};
  switch (msg.type) {
    case 'call.status':
      if (data.status === 'in-progress' && stats.state === 'connecting') setState('live');
      return;
    case 'transcript.partial':
      return showLine(data.role, data.text, false, false);
    case 'transcript.final':
      return showLine(data.role, data.text, true, data.interrupted === true);
    case 'agent.interrupted':
      stats.interruptions++;
      return;
    case 'call.ended':
      stats.endReason = data.reason ?? null;
      return;
    default:
      return;
  }
}

function showLine(role, text, final, interrupted) {
  if ((role !== 'user' && role !== 'agent') || typeof text !== 'string') return;
  let li = open[role];
  if (!li) {
    if (!final && text.trim() === '') return;
    li = document.createElement('li');
    li.dataset.role = role;
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = role === 'user' ? 'You' : 'Agent';
    const body = document.createElement('span');
    body.className = 'text';
    li.append(who, body);
    // A line that ends while the other side's words are still arriving was said first.
    const other = open[role === 'user' ? 'agent' : 'user'];
    if (final && other) ui.transcript.insertBefore(li, other);
    else ui.transcript.append(li);
    ui.empty.hidden = true;
  }
  li.querySelector('.text').textContent = text;
  li.dataset.final = String(final);
  if (final) {
    open[role] = null;
    if (interrupted) {
      li.dataset.interrupted = 'true';
      const tag = document.createElement('span');
      tag.className = 'tag';
      tag.textContent = '(interrupted)';
      li.querySelector('.who').append(tag);
    }
  } else {
    open[role] = li;
  }
  ui.transcript.scrollTop = ui.transcript.scrollHeight;
}

/** An ended call's reason (API.md endReason) in words; the person on this page is the caller. */
function endedText(reason) {
  const words = {
    caller_hangup: 'you hung up',
    agent_hangup: 'the agent hung up',
    api_end: 'ended by the operator',
    transfer: 'transferred',
  };
  if (!reason) return 'Call ended';
  if (words[reason]) return `Call ended: ${words[reason]}`;
  if (reason.startsWith('error:')) return `Call ended: something went wrong on our side (${reason.slice(6).replace(/_/g, ' ')})`;
  return `Call ended: ${reason.replace(/_/g, ' ')}`;
}

function onClose(code, reason) {
  stats.closeCode = code;
  stats.closeReason = reason;
  clearTimeout(endTimer);
  if (code === 1000 || stats.state === 'ending') {
    setState('ended', endedText(stats.endReason || reason));
    teardown();
    return;
  }
  if (stats.state === 'ended') return;
  fail(closeMessage(code, reason));
}

function endCall() {
  if (stats.state !== 'live' && stats.state !== 'connecting') return;
  setState('ending');
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'end' }));
  // The server closes once the call is recorded as ended; don't wait for it forever.
  endTimer = setTimeout(() => ws?.close(1000, 'caller_hangup'), 3000);
}

function toggleMute() {
  if (!audio) return;
  muted = !muted;
  // A disabled track sends silence: the server keeps an unbroken caller timeline.
  for (const track of audio.stream.getAudioTracks()) track.enabled = !muted;
  ui.mute.setAttribute('aria-pressed', String(muted));
  ui.mute.textContent = muted ? 'Unmute' : 'Mute';
}

function teardown() {
  ui.speaking.hidden = true;
  if (ws && ws.readyState === WebSocket.OPEN) ws.close(1000);
  if (!audio) return;
  const a = audio;
  audio = null;
  for (const track of a.stream.getTracks()) track.stop();
  a.capture.port.onmessage = null;
  // The player may still hold the agent's last words (a goodbye before an agent hang-up).
  setTimeout(() => a.context.close().catch(() => {}), 600);
}

/**
 * Before offering Start: who the call is with, and whether the link still works (a link that
 * was used, whose call ended or that expired says so now, not after the microphone prompt).
 */
async function checkLink() {
  ui.start.disabled = true;
  let info = null;
  try {
    const res = await fetch(`/web/call/info?token=${encodeURIComponent(token)}`, { cache: 'no-store' });
    if (res.ok) info = await res.json();
  } catch {
    /* unreachable now: Start tries the socket, which explains any failure itself */
  }
  if (info && info.agentName) {
    ui.agentName.textContent = info.agentName;
    ui.agentName.hidden = false;
    document.title = `Call with ${info.agentName} · voxgate`;
  }
  const state = info ? info.state : 'ready';
  stats.link = state;
  if (state === 'ready') return setState('ready');
  const messages = {
    used: 'This call link has already been used. Ask for a new link to call again.',
    ended: `This call has ended${info && info.endReason ? ` (${endedText(info.endReason).replace(/^Call ended: /, '')})` : ''}. Ask for a new link to call again.`,
    expired: 'This call link has expired (links work for 5 minutes). Ask for a new link.',
    invalid: 'This call link is not valid. Check that you copied all of it.',
  };
  fail(messages[state] || messages.invalid);
}

ui.start.addEventListener('click', () => void start());
ui.mute.addEventListener('click', toggleMute);
ui.end.addEventListener('click', endCall);
if (!token) fail('This page needs a call link with a token. Ask for a new link.');
else void checkLink();
