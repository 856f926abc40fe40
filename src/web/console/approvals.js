// Approvals, folded in from the reviewer page (src/web/approvals/): every pending campaign
// action with its campaign's facts, approve or reject with a reason. A key may not decide what
// its own owner requested (the API says canDecide: false), so those items say why instead.
import { api, ApiError } from './api.js';
import { clear, explain, h } from './dom.js';

const VERBS = { start: 'Start', pause: 'Pause', stop: 'Stop' };
const DAY_NAMES = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const POLL_MS = 5000;

function formatDays(days) {
  const sorted = [...days].sort((a, b) => a - b);
  if (sorted.length === 7) return 'every day';
  const contiguous = sorted.every((d, i) => i === 0 || d === sorted[i - 1] + 1);
  if (contiguous && sorted.length > 2) return `${DAY_NAMES[sorted[0]]}–${DAY_NAMES[sorted[sorted.length - 1]]}`;
  return sorted.map((d) => DAY_NAMES[d]).join(', ');
}
function formatHours(s) {
  if (!s) return '—';
  const ch = s.callingHours;
  return ch ? `${ch.start}–${ch.end}, ${formatDays(ch.days)} (${s.timezone})` : `Any time (${s.timezone})`;
}

export async function render(view) {
  const status = h('p', { class: 'muted', role: 'status', id: 'approvals-status' });
  const list = h('ol', { id: 'approvals', class: 'approvals', tabindex: '-1' });
  const empty = h('p', { class: 'empty', hidden: true }, 'Nothing is waiting for a decision.');
  view.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Approvals'), h('button', { type: 'button', class: 'btn btn-small', onclick: () => void load() }, 'Refresh')),
    h('p', { class: 'muted small' }, 'Outbound campaigns start, pause and stop only when a person of another owner approves.'),
    status, list, empty,
  );
  // Items being decided are not re-rendered under the reviewer's cursor.
  let busy = false;
  let timer = null;
  let stopped = false;

  async function load(message) {
    clearTimeout(timer);
    try {
      const page = await api('GET', '/v1/approvals?limit=100');
      if (stopped) return;
      const typing = list.contains(document.activeElement) && document.activeElement.tagName === 'TEXTAREA';
      if (!busy && !typing) {
        clear(list).append(...page.items.map(item));
        empty.hidden = page.items.length > 0;
      }
      status.textContent = message || (page.items.length ? `${page.items.length} pending.` : '');
    } catch (err) {
      status.textContent = explain(err);
    }
    if (!stopped) timer = setTimeout(() => void load(), POLL_MS);
  }

  function item(a) {
    const c = a.campaign;
    const verb = VERBS[a.action] || a.action;
    const name = c ? c.name : a.campaignId;
    const reasonId = `reason-${a.id}`;
    const reason = h('textarea', { id: reasonId, rows: 2, maxlength: 2000, disabled: !a.canDecide });
    const error = h('p', { class: 'error', role: 'alert' });
    const approve = h('button', { type: 'button', class: 'btn btn-primary', dataset: { decision: 'approve' }, 'aria-label': `Approve: ${verb} ${name}`, disabled: !a.canDecide }, 'Approve');
    const reject = h('button', { type: 'button', class: 'btn btn-danger', dataset: { decision: 'reject' }, 'aria-label': `Reject: ${verb} ${name}`, disabled: !a.canDecide }, 'Reject');
    const li = h('li', { class: 'card approval', dataset: { actionId: a.id } },
      h('div', { class: 'page-head' }, h('h2', {}, `${verb} “${name}”`), h('span', { class: 'badge', dataset: { status: a.action } }, a.action)),
      c && c.purpose ? h('p', {}, c.purpose) : null,
      h('dl', { class: 'facts' }, ...[
        ['Agent', c ? c.agentName || c.agentId : '—'],
        ['Contacts', c ? c.contacts.toLocaleString() : '—'],
        ['Calling hours', c ? formatHours(c.schedule) : '—'],
        ['Pace', c ? `${c.maxConcurrentCalls} at once · ${c.maxAttempts} attempts · retry after ${c.retryDelayMinutes} min` : '—'],
        ['Requested by', a.requestedBy],
        ['Requested', new Date(a.createdAt).toLocaleString()],
      ].map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v)))),
      h('div', { class: 'field field-wide' }, h('label', { for: reasonId }, 'Reason (optional)'), reason),
      a.canDecide ? null : h('p', { class: 'self-note' }, `Requested by your own owner (${a.requestedBy}): another reviewer must decide.`),
      h('div', { class: 'actions' }, approve, reject),
      error);
    const decide = async (d) => {
      busy = true;
      approve.disabled = reject.disabled = true;
      error.textContent = '';
      try {
        const r = await api('POST', `/v1/approvals/${encodeURIComponent(a.id)}/${d}`, reason.value.trim() ? { reason: reason.value.trim() } : {});
        const done = { start: 'running', pause: 'paused', stop: 'stopped' }[a.action];
        busy = false;
        await load(r.status === 'executed' ? `Approved: ${name} is now ${done}.` : r.status === 'rejected' ? `Rejected: ${a.action} of ${name}.` : `Approved, but the campaign could not ${a.action} (it changed meanwhile).`);
      } catch (err) {
        busy = false;
        error.textContent = err instanceof ApiError && err.code === 'conflict' ? 'Someone already decided this action.' : explain(err);
        approve.disabled = reject.disabled = false;
        if (err instanceof ApiError && (err.code === 'conflict' || err.code === 'not_found')) await load(error.textContent);
      }
    };
    approve.addEventListener('click', () => void decide('approve'));
    reject.addEventListener('click', () => void decide('reject'));
    return li;
  }

  await load();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
