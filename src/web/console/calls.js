// Calls: a live list with filters. Live by polling GET /v1/calls every 2 s: the API has a
// per-call SSE stream but no global one, and one small list request every 2 s per open tab
// (well under the 600/min rate limit) shows new calls and status changes without a reload.
// Each row links to the call page, which follows that call over its own SSE stream.

import { api } from './api.js';
import { agentName, loadAgents } from './agent-names.js';
import { clear, endReasonText, explain, fmtDuration, fmtTime, h, labelCells, liveSeconds, statusBadge, STATUS_TEXT, TERMINAL } from './dom.js';

/** 2 s: a new call shows up about as fast as a person looks; 30 requests/min per tab. */
const POLL_MS = 2000;

export async function render(view) {
  const agents = await loadAgents();
  const filters = { agentId: '', status: '', direction: '' };
  const select = (name, label, options) =>
    h('label', { class: 'filter' }, label,
      h('select', { name, onchange: (ev) => { filters[name] = ev.target.value; void refresh(); } },
        h('option', { value: '' }, 'All'),
        ...options.map(([v, text]) => h('option', { value: v }, text))));

  const tbody = h('tbody');
  const empty = h('p', { class: 'empty', hidden: true }, 'No calls yet. Place a phone call or start a web call from an agent’s page.');
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const updated = h('span', { class: 'muted small' });
  view.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Calls'), updated),
    h('form', { class: 'filters', onsubmit: (ev) => ev.preventDefault() },
      select('agentId', 'Agent', [...agents.values()].map((a) => [a.id, a.name])),
      select('status', 'Status', Object.entries(STATUS_TEXT)),
      select('direction', 'Direction', [['inbound', 'Inbound'], ['outbound', 'Outbound'], ['web', 'Web']])),
    error,
    h('div', { class: 'table-wrap' },
      h('table', { id: 'calls', class: 'table' },
        h('thead', {}, h('tr', {}, ...['Status', 'Direction', 'Agent', 'From', 'To', 'Started', 'Duration', 'End reason'].map((t) => h('th', { scope: 'col' }, t)))),
        tbody)),
    empty,
  );

  let timer = null;
  let stopped = false;
  let inFlight = null;
  async function refresh() {
    clearTimeout(timer);
    inFlight?.abort();
    const ctl = new AbortController();
    inFlight = ctl;
    const q = new URLSearchParams({ limit: '50' });
    for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
    try {
      const page = await api('GET', `/v1/calls?${q}`, undefined, { signal: ctl.signal });
      if (stopped || ctl.signal.aborted) return;
      error.hidden = true;
      clear(tbody).append(...page.items.map((c) => row(c, agents)));
      labelCells(tbody.parentElement);
      empty.hidden = page.items.length > 0;
      updated.textContent = `Live · updated ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      if (ctl.signal.aborted) return;
      error.textContent = explain(err);
      error.hidden = false;
    }
    if (!stopped) timer = setTimeout(() => void refresh(), POLL_MS);
  }
  await refresh();
  return () => {
    stopped = true;
    clearTimeout(timer);
    inFlight?.abort();
  };
}

function row(c, agents) {
  const open = () => (location.hash = `#/calls/${encodeURIComponent(c.id)}`);
  const duration = TERMINAL.has(c.status) ? fmtDuration(c.durationSeconds) : c.status === 'in-progress' ? fmtDuration(liveSeconds(c)) : '—';
  return h('tr', { dataset: { callId: c.id, status: c.status }, class: 'clickable', onclick: open },
    h('td', {}, statusBadge(c.status)),
    h('td', {}, c.direction),
    h('td', {}, h('a', { href: `#/calls/${encodeURIComponent(c.id)}`, onclick: (ev) => ev.stopPropagation() }, agentName(agents, c.agentId))),
    h('td', { class: 'mono' }, c.fromNumber || (c.direction === 'web' ? 'browser' : '—')),
    h('td', { class: 'mono' }, c.toNumber || '—'),
    h('td', {}, fmtTime(c.startedAt || c.createdAt)),
    h('td', {}, duration),
    h('td', { class: 'reason', title: c.endReason || '' }, endReasonText(c.endReason) || '—'),
  );
}
