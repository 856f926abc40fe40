// One call: facts and end reason in words, the live transcript (SSE read through fetch, since
// EventSource cannot send the key), the stereo recording with its waveforms, each turn's
// latency, and End call. While the call runs, GET /v1/calls/:id every 2 s keeps status and
// latency current; the transcript comes from the stream alone.

import { api, ApiError, fetchBlob, readSse, recordingWorker, session } from './api.js';
import { agentName, loadAgents } from './agent-names.js';
import { clear, endReasonText, explain, fmtDuration, fmtTime, h, liveSeconds, statusBadge, TERMINAL, toast } from './dom.js';
import { renderLatency } from './latency.js';
import { mountWaveform, parseWav } from './waveform.js';

const POLL_MS = 2000;
/** A dropped stream is resumed with Last-Event-ID after this pause (the API replays from there). */
const SSE_RETRY_MS = 1500;

export async function render(view, { id }) {
  const agents = await loadAgents();
  let call;
  try {
    call = await api('GET', `/v1/calls/${encodeURIComponent(id)}`);
  } catch (err) {
    view.append(h('section', { class: 'card' }, h('h1', {}, 'Call not found'), h('p', { class: 'error' }, explain(err)), h('a', { href: '#/calls' }, '← All calls')));
    return null;
  }

  const facts = h('dl', { class: 'facts' });
  const endBtn = h('button', { type: 'button', class: 'btn btn-danger', id: 'call-end' }, 'End call');
  const statusEl = h('span');
  const transcript = h('ol', { id: 'call-transcript', class: 'transcript', 'aria-live': 'polite' });
  const transcriptEmpty = h('p', { class: 'empty' }, 'Nothing said yet.');
  const audio = h('audio', { id: 'call-recording', controls: true, preload: 'auto' });
  const recordingBox = h('div', { class: 'recording' });
  const recordingNote = h('p', { class: 'muted' }, 'The recording is ready when the call ends.');
  const latencyBox = h('div', { id: 'call-latency', class: 'latency' });

  view.append(
    h('p', { class: 'crumbs' }, h('a', { href: '#/calls' }, '← All calls')),
    h('div', { class: 'page-head' }, h('h1', {}, 'Call ', h('span', { class: 'mono small' }, call.id)), statusEl, session.can('calls:write') ? endBtn : null),
    h('section', { class: 'card' }, facts),
    h('div', { class: 'grid-2' },
      h('section', { class: 'card' }, h('h2', {}, 'Transcript'), transcript, transcriptEmpty),
      h('section', { class: 'card' },
        h('h2', {}, 'Recording'), recordingNote, recordingBox,
        h('h2', {}, 'Latency per turn'), latencyBox)),
  );

  let stopped = false;
  const ctl = new AbortController();
  let detachWave = null;
  let objectUrl = null;
  let recordingLoading = false;
  let pollTimer = null;

  function showFacts() {
    clear(statusEl).append(statusBadge(call.status));
    const dur = TERMINAL.has(call.status) ? fmtDuration(call.durationSeconds) : call.status === 'in-progress' ? `${fmtDuration(liveSeconds(call))} so far` : '—';
    const rows = [
      ['Agent', agentName(agents, call.agentId)],
      ['Direction', call.direction],
      ['From', call.fromNumber || (call.direction === 'web' ? 'browser' : '—')],
      ['To', call.toNumber || '—'],
      ['Started', fmtTime(call.startedAt || call.createdAt)],
      ['Answered', fmtTime(call.answeredAt)],
      ['Ended', fmtTime(call.endedAt)],
      ['Duration', dur],
      ['End reason', call.endReason ? endReasonText(call.endReason) : TERMINAL.has(call.status) ? '—' : 'Still running'],
    ];
    clear(facts).append(...rows.map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', { dataset: { fact: k.toLowerCase().replace(/ /g, '-') } }, v))));
    endBtn.hidden = TERMINAL.has(call.status);
    renderLatency(latencyBox, call.latency);
  }

  endBtn.addEventListener('click', async () => {
    endBtn.disabled = true;
    try {
      call = await api('POST', `/v1/calls/${encodeURIComponent(call.id)}/end`);
      toast('Ending the call…');
      showFacts();
    } catch (err) {
      toast(explain(err), 'error');
    } finally {
      endBtn.disabled = false;
    }
  });

  // Transcript: replay, then live; partial lines update in place until their final arrives.
  const open = { user: null, agent: null };
  function line(role, text, final, interrupted) {
    if (role !== 'user' && role !== 'agent' && role !== 'tool' && role !== 'system') return;
    let li = open[role];
    if (!li) {
      if (!final && !String(text).trim()) return;
      li = h('li', { dataset: { role } }, h('span', { class: 'who' }, { user: 'Caller', agent: 'Agent', tool: 'Tool', system: 'System' }[role]), h('span', { class: 'text' }));
      // A final line that ends while the other side's words are still arriving (the agent cut
      // off by the caller) goes before those words: it was said first.
      const other = open[role === 'user' ? 'agent' : 'user'];
      if (final && other) transcript.insertBefore(li, other);
      else transcript.append(li);
      transcriptEmpty.hidden = true;
    }
    li.querySelector('.text').textContent = text;
    li.dataset.final = String(final);
    if (final) {
      open[role] = null;
      if (interrupted) {
        li.dataset.interrupted = 'true';
        li.querySelector('.who').append(h('span', { class: 'tag', title: 'The caller talked over the agent; the text is what they heard' }, 'interrupted'));
      }
    } else {
      open[role] = li;
    }
  }
  function onEvent(ev) {
    const d = ev.data || {};
    if (ev.event === 'transcript.partial') line(d.role, d.text ?? '', false, false);
    else if (ev.event === 'transcript.final') line(d.role, d.text ?? '', true, d.interrupted === true);
    else if (ev.event === 'call.status' && d.status) {
      call = { ...call, status: d.status };
      showFacts();
    } else if (ev.event === 'call.ended') void refreshCall();
  }
  async function follow() {
    let lastId = null;
    while (!stopped) {
      try {
        await readSse(`/v1/calls/${encodeURIComponent(call.id)}/transcript/stream`, (ev) => {
          if (ev.id) lastId = ev.id;
          onEvent(ev);
        }, { signal: ctl.signal, lastEventId: lastId });
        // The server closes the stream after call.ended: the transcript is complete.
        return;
      } catch (err) {
        if (stopped || ctl.signal.aborted) return;
        if (err instanceof ApiError && err.status < 500) return toast(explain(err), 'error');
        await new Promise((r) => setTimeout(r, SSE_RETRY_MS));
      }
    }
  }

  async function loadRecording() {
    if (recordingLoading || !call.recordingAvailable) return;
    recordingLoading = true;
    recordingNote.textContent = 'Loading the recording…';
    const path = `/v1/calls/${encodeURIComponent(call.id)}/recording`;
    try {
      // The player streams from /v1 with Range requests through the console's service worker,
      // which adds the key an <audio> element cannot send; playback and seeks do not wait for
      // the whole file. Without the worker (no secure context), the WAV plays from memory.
      const streamed = await recordingWorker();
      if (streamed) {
        audio.dataset.source = 'range';
        audio.src = path;
        clear(recordingBox).append(audio);
      }
      // The waveforms need every sample: the whole file, fetched with the key.
      const blob = await fetchBlob(path, { signal: ctl.signal });
      if (stopped) return;
      const wav = parseWav(await blob.arrayBuffer());
      if (!streamed) {
        objectUrl = URL.createObjectURL(blob);
        audio.dataset.source = 'memory';
        audio.src = objectUrl;
        clear(recordingBox).append(audio);
      }
      detachWave = mountWaveform(recordingBox, audio, wav);
      recordingNote.textContent = `${fmtDuration(wav.seconds)} · stereo, ${wav.sampleRate} Hz · caller left, agent right. Click the waveform to seek.`;
    } catch (err) {
      if (stopped) return;
      recordingNote.textContent = err instanceof ApiError && err.code === 'recording_not_found' ? 'This call has no recording.' : `The recording could not be loaded: ${explain(err)}`;
    }
  }

  async function refreshCall() {
    try {
      call = await api('GET', `/v1/calls/${encodeURIComponent(call.id)}`, undefined, { signal: ctl.signal });
    } catch {
      /* the next poll tries again */
    }
    if (stopped) return;
    showFacts();
    if (TERMINAL.has(call.status)) {
      if (call.recordingAvailable) void loadRecording();
      else recordingNote.textContent = 'This call has no recording.';
    }
  }
  async function poll() {
    await refreshCall();
    if (!stopped && !TERMINAL.has(call.status)) pollTimer = setTimeout(() => void poll(), POLL_MS);
  }

  showFacts();
  if (session.can('calls:read')) void follow();
  void poll();
  return () => {
    stopped = true;
    ctl.abort();
    clearTimeout(pollTimer);
    detachWave?.();
    audio.pause();
    if (objectUrl) URL.revokeObjectURL(objectUrl);
  };
}
