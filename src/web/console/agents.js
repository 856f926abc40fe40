// Agents: the list, with a link to create one. Each row opens the agent's form (agent-form.js).
import { listAll, session } from './api.js';
import { explain, fmtTime, h, labelCells } from './dom.js';

const ARCH_TEXT = { pipeline: 'Pipeline (STT → LLM → TTS)', realtime: 'Realtime (speech to speech)', text: 'Text only' };

export async function render(view) {
  const head = h('div', { class: 'page-head' }, h('h1', {}, 'Agents'),
    session.can('agents:write') ? h('a', { class: 'btn btn-primary', href: '#/agents/new', id: 'agent-new' }, 'New agent') : null);
  view.append(head);
  let agents;
  try {
    agents = await listAll('/v1/agents');
  } catch (err) {
    view.append(h('p', { class: 'error', role: 'alert' }, explain(err)));
    return null;
  }
  view.append(
    h('div', { class: 'table-wrap' },
      labelCells(h('table', { id: 'agents', class: 'table' },
        h('thead', {}, h('tr', {}, ...['Name', 'Architecture', 'Voice', 'Calls', 'Active', 'Updated'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, ...agents.map((a) =>
          h('tr', { dataset: { agentId: a.id }, class: 'clickable', onclick: () => (location.hash = `#/agents/${encodeURIComponent(a.id)}`) },
            h('td', {}, h('a', { href: `#/agents/${encodeURIComponent(a.id)}`, onclick: (ev) => ev.stopPropagation() }, a.name)),
            h('td', {}, ARCH_TEXT[a.architecture] || a.architecture),
            h('td', {}, voiceSummary(a)),
            h('td', {}, a.voiceMode.replace(/_/g, ' ')),
            h('td', {}, a.active ? 'Yes' : 'No'),
            h('td', {}, fmtTime(a.updatedAt)))))))),
    ...(agents.length === 0 ? [h('p', { class: 'empty' }, 'No agents yet.')] : []),
  );
  return null;
}

function voiceSummary(a) {
  if (a.architecture === 'realtime') return `${a.realtimeProvider || '—'}${a.voiceId ? ` · ${a.voiceId}` : ''}`;
  if (a.architecture === 'text') return a.model || '—';
  return [a.stt, a.model, a.tts].filter(Boolean).join(' → ') + (a.voiceId ? ` · ${a.voiceId}` : '');
}
