// An agent's form: create (#/agents/new) or edit (#/agents/<id>). Only the fields of the chosen
// architecture are shown and sent (API.md, Agents: pipeline needs model, stt, tts; realtime
// needs realtimeProvider; text needs model), the `llm` section only where replies come from an
// LLM (pipeline, text), with the fields of its provider. 422 details land next to their field.
// The agent's tools, env vars and knowledge (agent-extras.js) and a web call follow the form.

import { api, ApiError, session } from './api.js';
import { h, explain, showFieldErrors, toast } from './dom.js';
import { renderExtras } from './agent-extras.js';

const ARCHS = [['pipeline', 'Pipeline: STT → LLM → TTS'], ['realtime', 'Realtime: speech to speech'], ['text', 'Text only (chat, no calls)']];
const LLM_PROVIDERS = [['openai', 'OpenAI (OPENAI_BASE_URL)'], ['openai-compatible', 'Any Chat Completions server'], ['webhook', 'Your HTTP webhook'], ['websocket', 'Your WebSocket server']];

/**
 * name, label, input kind, options, and where it applies: `arch` (architectures) and `llm`
 * (llm providers, for the llm.* fields and for model, which webhook/websocket brains lack).
 */
const FIELDS = [
  { name: 'name', label: 'Name', kind: 'text', required: true },
  { name: 'architecture', label: 'Architecture', kind: 'select', options: ARCHS },
  { name: 'systemPrompt', label: 'System prompt', kind: 'textarea', required: true, hint: '{{var}} placeholders are filled from the call’s variables.' },
  { name: 'firstMessage', label: 'First message', kind: 'text', arch: ['pipeline', 'realtime'], hint: 'Spoken when the call connects; empty: the caller speaks first.' },
  { name: 'language', label: 'Language', kind: 'text', placeholder: 'en' },
  { name: 'llm.provider', label: 'Replies come from', kind: 'select', options: LLM_PROVIDERS, arch: ['pipeline', 'text'] },
  { name: 'llm.baseUrl', label: 'Server base URL', kind: 'text', arch: ['pipeline', 'text'], llm: ['openai-compatible'], placeholder: 'https://my-llm.example/v1' },
  { name: 'llm.apiKeyEnv', label: 'API key env var', kind: 'text', arch: ['pipeline', 'text'], llm: ['openai-compatible'], hint: 'The name of one of this agent’s env vars.' },
  { name: 'llm.url', label: 'URL', kind: 'text', arch: ['pipeline', 'text'], llm: ['webhook', 'websocket'], placeholder: 'https://…' },
  { name: 'llm.secretEnv', label: 'Signing secret env var', kind: 'text', arch: ['pipeline', 'text'], llm: ['webhook', 'websocket'] },
  { name: 'llm.timeoutMs', label: 'Timeout (ms)', kind: 'number', arch: ['pipeline', 'text'], llm: ['webhook'], placeholder: '8000' },
  { name: 'model', label: 'Model', kind: 'text', arch: ['pipeline', 'text'], llm: ['openai', 'openai-compatible'], placeholder: 'gpt-4o-mini', required: true },
  { name: 'temperature', label: 'Temperature', kind: 'number', step: '0.1', min: '0', max: '2', arch: ['pipeline', 'realtime', 'text'] },
  { name: 'stt', label: 'Speech-to-text', kind: 'select', options: [['deepgram', 'Deepgram'], ['openai-compatible', 'OpenAI-compatible']], arch: ['pipeline'] },
  { name: 'sttModel', label: 'STT model', kind: 'text', arch: ['pipeline'], placeholder: 'provider default' },
  { name: 'tts', label: 'Text-to-speech', kind: 'select', options: [['elevenlabs', 'ElevenLabs'], ['cartesia', 'Cartesia'], ['openai-compatible', 'OpenAI-compatible']], arch: ['pipeline'] },
  { name: 'realtimeProvider', label: 'Realtime provider', kind: 'select', options: [['openai', 'OpenAI Realtime'], ['xai', 'xAI Grok']], arch: ['realtime'] },
  { name: 'voiceId', label: 'Voice', kind: 'voice', arch: ['pipeline', 'realtime'] },
  { name: 'voiceMode', label: 'Takes calls from', kind: 'select', options: [['web_and_phone', 'Web and phone'], ['web', 'Web only'], ['phone', 'Phone only'], ['off', 'Nobody (off)']], arch: ['pipeline', 'realtime'] },
  { name: 'turnDetection.silenceMs', label: 'End of turn after silence (ms)', kind: 'number', arch: ['pipeline', 'realtime'], placeholder: 'default' },
  { name: 'turnDetection.minInterruptionMs', label: 'Barge-in after speech (ms)', kind: 'number', arch: ['pipeline', 'realtime'], placeholder: 'default' },
  { name: 'turnDetection.interruptible', label: 'Caller may interrupt', kind: 'checkbox', arch: ['pipeline', 'realtime'] },
  { name: 'builtin.end_call', label: 'May hang up (end_call)', kind: 'checkbox', arch: ['pipeline', 'realtime'] },
  { name: 'builtin.transfer_call', label: 'May transfer phone calls (transfer_call)', kind: 'checkbox', arch: ['pipeline', 'realtime'] },
  { name: 'active', label: 'Active', kind: 'checkbox' },
];

/** The built-in tools (API.md): on unless listed in the agent's `disabledTools`. */
const BUILTINS = ['end_call', 'transfer_call'];

const get = (obj, path) => path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);

export async function render(view, { id }) {
  const creating = id === 'new';
  let agent = null;
  if (!creating) {
    try {
      agent = await api('GET', `/v1/agents/${encodeURIComponent(id)}`);
    } catch (err) {
      view.append(h('section', { class: 'card' }, h('h1', {}, 'Agent not found'), h('p', { class: 'error' }, explain(err)), h('a', { href: '#/agents' }, '← All agents')));
      return null;
    }
  }
  const canWrite = session.can('agents:write');
  const voices = await loadVoices();

  const form = h('form', { id: 'agent-form', class: 'card form', novalidate: true });
  const datalist = h('datalist', { id: 'voice-options' });
  for (const f of FIELDS) form.append(field(f));
  form.append(datalist,
    h('p', { class: 'form-error error', role: 'alert', hidden: true }),
    h('p', { class: 'form-warnings', role: 'status', hidden: true }),
    canWrite ? h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, creating ? 'Create agent' : 'Save changes'),
      !creating ? h('button', { type: 'button', class: 'btn btn-danger', id: 'agent-delete', onclick: () => void remove() }, 'Delete') : null) : null);

  view.append(
    h('p', { class: 'crumbs' }, h('a', { href: '#/agents' }, '← All agents')),
    h('div', { class: 'page-head' }, h('h1', {}, creating ? 'New agent' : agent.name), !creating ? h('span', { class: 'mono small muted' }, agent.id) : null),
    form,
  );

  const input = (name) => form.elements.namedItem(name);
  // Values: the agent's, else defaults that make a working pipeline agent.
  const defaults = { architecture: 'pipeline', language: 'en', 'llm.provider': 'openai', model: 'gpt-4o-mini', stt: 'deepgram', tts: 'elevenlabs', realtimeProvider: 'openai', voiceMode: 'web_and_phone', 'turnDetection.interruptible': true, active: true };
  for (const f of FIELDS) {
    const el = input(f.name);
    if (f.name.startsWith('builtin.')) {
      el.checked = !(agent && agent.disabledTools.includes(f.name.slice(8)));
      continue;
    }
    const v = agent ? get(agent, f.name) ?? (f.name === 'llm.provider' ? 'openai' : undefined) : defaults[f.name];
    if (f.kind === 'checkbox') el.checked = v === undefined ? f.name === 'turnDetection.interruptible' : Boolean(v);
    else if (v !== undefined && v !== null) el.value = String(v);
  }
  if (!canWrite) for (const el of form.elements) el.disabled = true;

  function visible(f) {
    const arch = input('architecture').value;
    if (f.arch && !f.arch.includes(arch)) return false;
    if (f.llm && !f.llm.includes(input('llm.provider').value)) return false;
    return true;
  }
  function sync() {
    for (const f of FIELDS) form.querySelector(`[data-field="${f.name}"]`).hidden = !visible(f);
    // Voices of the chosen provider (pipeline: the TTS; realtime: the realtime provider).
    const arch = input('architecture').value;
    const provider = arch === 'realtime' ? input('realtimeProvider').value : input('tts').value;
    datalist.replaceChildren(...voices.items.filter((v) => v.provider === provider).map((v) => h('option', { value: v.id }, `${v.name}${v.language ? ` (${v.language})` : ''}`)));
    const note = form.querySelector('[data-field="voiceId"] .hint');
    note.textContent = voices.available
      ? voices.unavailable[provider] ? `Voices of ${provider} are unavailable: ${voices.unavailable[provider]}. Type a voice id.` : 'Pick a voice or type its id.'
      : 'Type the provider’s voice id (this gateway does not list voices).';
  }
  form.addEventListener('change', sync);
  sync();

  function body() {
    const out = {};
    const arch = input('architecture').value;
    for (const f of FIELDS) {
      if (f.name.startsWith('llm.') || f.name.startsWith('turnDetection.') || f.name.startsWith('builtin.')) continue;
      const el = input(f.name);
      if (!visible(f)) {
        // Switching architecture: clear what the new one does not use.
        if (agent && get(agent, f.name) != null && f.name !== 'voiceMode') out[f.name] = null;
        continue;
      }
      if (f.kind === 'checkbox') out[f.name] = el.checked;
      else if (f.kind === 'number') out[f.name] = el.value === '' ? (agent ? null : undefined) : Number(el.value);
      // Empty: not sent on create; on edit, null clears it (PATCH), and a required field's
      // null comes back as a 422 at that field.
      else if (el.value.trim() === '') out[f.name] = agent ? null : undefined;
      else out[f.name] = el.value.trim();
    }
    if (arch === 'text') out.voiceMode = 'off';
    else out.disabledTools = BUILTINS.filter((b) => !input(`builtin.${b}`).checked);
    // llm is only sent when it says something: absent means the built-in OpenAI brain.
    const provider = input('llm.provider').value;
    if (arch !== 'realtime' && (provider !== 'openai' || (agent && agent.llm))) {
      const llm = { provider };
      for (const f of FIELDS.filter((x) => x.name.startsWith('llm.') && x.name !== 'llm.provider' && visible(x))) {
        const v = input(f.name).value.trim();
        if (v !== '') llm[f.name.slice(4)] = f.kind === 'number' ? Number(v) : v;
      }
      out.llm = llm;
    } else if (arch === 'realtime' && agent && agent.llm) out.llm = null;
    if (arch === 'text' && agent && agent.turnDetection) out.turnDetection = null;
    if (arch !== 'text') {
      const td = {};
      for (const k of ['silenceMs', 'minInterruptionMs']) {
        const v = input(`turnDetection.${k}`).value;
        if (v !== '') td[k] = Number(v);
      }
      td.interruptible = input('turnDetection.interruptible').checked;
      out.turnDetection = td;
    }
    for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
    return out;
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    form.querySelector('.form-error').hidden = true;
    showFieldErrors(form, { details: [] });
    form.querySelector('.form-error').hidden = true;
    const btn = form.querySelector('button[type=submit]');
    btn.disabled = true;
    try {
      const saved = creating ? await api('POST', '/v1/agents', body()) : await api('PATCH', `/v1/agents/${encodeURIComponent(agent.id)}`, body());
      const warnings = saved.warnings || [];
      if (warnings.length) sessionStorage.setItem('voxgate.agentWarnings', JSON.stringify(warnings));
      toast(creating ? `Agent “${saved.name}” created.` : 'Saved.');
      if (creating) location.hash = `#/agents/${encodeURIComponent(saved.id)}`;
      else {
        agent = saved;
        showWarnings(warnings);
      }
    } catch (err) {
      if (err instanceof ApiError && err.details.length) showFieldErrors(form, err);
      else {
        const e = form.querySelector('.form-error');
        e.textContent = explain(err);
        e.hidden = false;
      }
    } finally {
      btn.disabled = false;
    }
  });

  function showWarnings(list) {
    const el = form.querySelector('.form-warnings');
    el.replaceChildren(...list.map((w) => h('span', { class: 'warning' }, `⚠ ${w}`)));
    el.hidden = list.length === 0;
  }
  // Warnings of a create survive the hop to the agent's own page.
  const pending = sessionStorage.getItem('voxgate.agentWarnings');
  if (pending && agent) {
    sessionStorage.removeItem('voxgate.agentWarnings');
    showWarnings(JSON.parse(pending));
  }

  async function remove() {
    if (!confirm(`Delete the agent “${agent.name}”? Its calls and transcripts are kept.`)) return;
    try {
      await api('DELETE', `/v1/agents/${encodeURIComponent(agent.id)}`);
      toast('Agent deleted.');
      location.hash = '#/agents';
    } catch (err) {
      toast(explain(err), 'error');
    }
  }

  if (agent) await renderExtras(view, agent);
  return null;
}

function field(f) {
  const id = `f-${f.name.replace(/\./g, '-')}`;
  let control;
  if (f.kind === 'select') control = h('select', { id, name: f.name }, ...f.options.map(([v, t]) => h('option', { value: v }, t)));
  else if (f.kind === 'textarea') control = h('textarea', { id, name: f.name, rows: 5 });
  else if (f.kind === 'checkbox') control = h('input', { id, name: f.name, type: 'checkbox' });
  else if (f.kind === 'number') control = h('input', { id, name: f.name, type: 'number', step: f.step || '1', min: f.min, max: f.max, placeholder: f.placeholder, inputmode: 'numeric' });
  else if (f.kind === 'voice') control = h('input', { id, name: f.name, type: 'text', list: 'voice-options', autocomplete: 'off', placeholder: 'voice id' });
  else control = h('input', { id, name: f.name, type: 'text', placeholder: f.placeholder, autocomplete: 'off', spellcheck: f.name === 'firstMessage' ? 'true' : 'false' });
  const wrap = h('div', { class: `field${f.kind === 'checkbox' ? ' field-check' : ''}${f.kind === 'textarea' ? ' field-wide' : ''}`, dataset: { field: f.name } },
    h('label', { for: id }, f.label, f.required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
    control,
    f.hint || f.kind === 'voice' ? h('span', { class: 'hint' }, f.hint || '') : null);
  return wrap;
}

/** GET /v1/voices, if this gateway has it (404 → a free-text voice id). */
async function loadVoices() {
  const out = { available: false, items: [], unavailable: {} };
  if (!session.can('agents:read')) return out;
  try {
    const res = await api('GET', '/v1/voices');
    out.available = true;
    out.items = res.items || [];
    for (const u of res.unavailable || []) out.unavailable[u.provider] = u.reason;
  } catch {
    /* 404 on gateways without the endpoint: the voice stays a text field */
  }
  return out;
}
