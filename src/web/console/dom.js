// Small DOM helpers and the words the console uses for the API's codes. No framework: pages
// build their elements with `h()` and replace them wholesale when data changes.

/** h('tr', {dataset: {callId}}, h('td', {}, 'text')) — attributes, then children (strings or nodes). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'class') el.className = v;
    // CSSOM, not the style attribute: the CSP (style-src 'self') refuses inline style attributes.
    else if (k === 'style') el.style.cssText = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

let toastTimer = null;
/** A short status line at the bottom of the window (role=status, so screen readers hear it). */
export function toast(text, kind = 'info') {
  const el = document.getElementById('toast');
  el.textContent = text;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), kind === 'error' ? 8000 : 4000);
}

export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  const today = new Date().toDateString() === d.toDateString();
  return today ? d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' }) : d.toLocaleString([], { dateStyle: 'short', timeStyle: 'short' });
}

export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m > 0 ? `${m} min ${String(s).padStart(2, '0')} s` : `${s} s`;
}

/** How long a live call has run, from its answer (or start) time. */
export function liveSeconds(call) {
  const from = call.answeredAt || call.startedAt;
  return from ? Math.max(0, Math.round((Date.now() - Date.parse(from)) / 1000)) : null;
}

const END_REASONS = {
  caller_hangup: 'The caller hung up',
  agent_hangup: 'The agent ended the call',
  api_end: 'Ended from the API or console',
  transfer: 'Transferred to another number',
  busy: 'The line was busy',
  'no-answer': 'Nobody answered',
  no_answer: 'Nobody answered',
  canceled: 'Canceled before it was answered',
  failed: 'The call failed',
  media_timeout: 'No audio arrived from the carrier',
  caller_silence: 'The caller stayed silent',
  shutdown: 'The gateway shut down',
  max_duration: 'The call reached its maximum length',
  gateway_shutdown: 'The gateway shut down before the call ended',
};

const ERROR_PARTS = {
  deepgram: 'speech-to-text (Deepgram)',
  openai: 'the LLM (OpenAI)',
  elevenlabs: 'text-to-speech (ElevenLabs)',
  'openai-compatible': 'an OpenAI-compatible speech server',
  cartesia: 'text-to-speech (Cartesia)',
  xai: 'the realtime model (xAI)',
  realtime: 'the realtime model',
  session: 'the call session',
  conversation_server: 'the conversation server',
  media: 'the media connection',
};

/** error:<code> the gateway writes for itself (grep `error:` in src/). */
const ERROR_REASONS = {
  session: 'Failed: the call session could not start',
  agent_deleted: 'Failed: the agent was deleted',
  voice_mode_excludes_phone: "Refused: the agent's voice mode does not take phone calls",
  text_agent: 'Refused: a text agent cannot take calls',
  realtime_unavailable: 'Failed: the realtime model was unavailable',
  realtime_not_configured: 'Failed: the realtime model has no credentials (OPENAI_API_KEY)',
  realtime_disconnected: 'Failed: the realtime model disconnected',
  number_not_registered: 'Refused: the number called is not registered',
  number_has_no_agent: 'Refused: the number called has no agent',
  media_never_connected: 'Failed: the audio never connected',
  gateway_restart: 'Ended: the gateway restarted during the call',
  engine_start: 'Failed: the voice engine could not start',
  engine: 'Failed: the voice engine stopped',
  draining: 'Refused: the gateway was shutting down',
  call_ended: 'Ended',
  deepgram_not_configured: 'Failed: speech-to-text has no credentials (DEEPGRAM_API_KEY)',
  elevenlabs_not_configured: 'Failed: text-to-speech has no credentials (ELEVENLABS_API_KEY)',
  openai_not_configured: 'Failed: the LLM has no credentials (OPENAI_API_KEY)',
  'openai-compatible_not_configured': 'Failed: the OpenAI-compatible speech server needs a key (STT_API_KEY / TTS_API_KEY)',
};

/** The API's endReason code as a sentence a person reads without the docs. */
export function endReasonText(reason) {
  if (!reason) return '';
  if (END_REASONS[reason]) return END_REASONS[reason];
  if (reason.startsWith('error:') && ERROR_REASONS[reason.slice(6)]) return ERROR_REASONS[reason.slice(6)];
  if (reason.startsWith('error:twilio:')) return `Refused by Twilio (error ${reason.slice(13)})`;
  if (reason.startsWith('error:')) {
    const [, part, ...rest] = reason.split(':');
    const what = ERROR_PARTS[part] || part.replace(/[_-]/g, ' ');
    return `Failed: ${what}${rest.length ? ` (${rest.join(':').replace(/_/g, ' ')})` : ''}`;
  }
  return reason.replace(/[_-]/g, ' ').replace(/^./, (c) => c.toUpperCase());
}

export const STATUS_TEXT = {
  queued: 'Queued',
  ringing: 'Ringing',
  'in-progress': 'Live',
  completed: 'Completed',
  busy: 'Busy',
  'no-answer': 'No answer',
  failed: 'Failed',
  canceled: 'Canceled',
};

export const TERMINAL = new Set(['completed', 'busy', 'no-answer', 'failed', 'canceled']);

export function statusBadge(status) {
  return h('span', { class: 'badge', dataset: { status } }, STATUS_TEXT[status] || status);
}

/** The API error as words, for a toast or an inline message. */
export function explain(err) {
  if (!err || !err.code) return 'The gateway could not be reached. Check the connection and try again.';
  switch (err.code) {
    case 'unauthorized':
      return 'This key is not recognised (or was revoked). Sign in again.';
    case 'forbidden':
      return `This key may not do that: ${err.message}`;
    case 'rate_limited':
      return 'Too many requests. Wait a moment and try again.';
    default:
      return err.message || err.code;
  }
}

/**
 * 422 details (`{field, path, message}`) shown next to the form's fields; the rest goes to the
 * form's own error line. Returns true when at least one field took its message.
 */
export function showFieldErrors(form, err) {
  for (const el of form.querySelectorAll('.field-error')) el.remove();
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  const general = form.querySelector('.form-error');
  const leftover = [];
  let placed = false;
  for (const d of err.details || []) {
    const field = d.field || (d.path || '').replace(/^body\//, '').split('/')[0];
    const input = field ? form.querySelector(`[name="${CSS.escape(field)}"]`) : null;
    if (!input) {
      leftover.push(`${field ? `${field}: ` : ''}${d.message}`);
      continue;
    }
    input.setAttribute('aria-invalid', 'true');
    const msg = h('span', { class: 'field-error', role: 'alert', dataset: { field } }, d.message);
    (input.closest('label, .field') || input).append(msg);
    placed = true;
  }
  if (general) {
    general.textContent = leftover.length || !placed ? [explain(err), ...leftover].join(' — ') : 'Please fix the fields marked below.';
    general.hidden = false;
  }
  return placed;
}

/** Each cell learns its column's heading: on narrow screens rows become cards that show it. */
export function labelCells(table) {
  const heads = table.tHead ? [...table.tHead.rows[0].cells].map((c) => c.textContent) : [];
  for (const body of table.tBodies) for (const row of body.rows) [...row.cells].forEach((c, i) => heads[i] && (c.dataset.label = heads[i]));
  return table;
}
