// The reviewer page: lists pending campaign actions (GET /v1/approvals) and approves or rejects
// them with the reviewer's own key. Plain ES module, no build step; every request goes to this
// gateway's public API, so the page can do exactly what the key can do and nothing more.

const KEY_STORAGE = 'voxgate.approvalsKey';
const DAY_NAMES = ['', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const VERBS = { start: 'Start', pause: 'Pause', stop: 'Stop' };

const $ = (id) => document.getElementById(id);
const els = {
  who: $('who'),
  keySection: $('key-section'),
  keyForm: $('key-form'),
  keyInput: $('key-input'),
  keyError: $('key-error'),
  queueSection: $('queue-section'),
  queue: $('queue'),
  empty: $('empty'),
  count: $('count'),
  status: $('status'),
  refresh: $('refresh'),
  forget: $('forget'),
  template: $('item-template'),
};

let key = sessionStorage.getItem(KEY_STORAGE) || '';

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const err = data && data.error ? data.error : { code: 'http_' + res.status, message: res.statusText };
    throw new ApiError(res.status, err.code, err.message);
  }
  return data;
}

/** What a reviewer should read for each failure, in plain words. */
function explain(err) {
  if (!(err instanceof ApiError)) return 'The gateway could not be reached. Check the connection and try again.';
  switch (err.code) {
    case 'unauthorized':
      return 'This key is not recognised (or was revoked). Paste a valid key.';
    case 'forbidden':
      return 'This key lacks the approvals:write scope.';
    case 'self_approval_forbidden':
      return 'Your own owner requested this action, so you cannot decide it. Another reviewer must.';
    case 'conflict':
      return 'Someone already decided this action. The list has been refreshed.';
    case 'not_found':
      return 'This action no longer exists. The list has been refreshed.';
    case 'rate_limited':
      return 'Too many requests. Wait a moment and try again.';
    default:
      return err.message || 'Something went wrong.';
  }
}

function setStatus(text) {
  els.status.textContent = text;
}

function formatHours(schedule) {
  const h = schedule.callingHours;
  if (!h) return `Any time (${schedule.timezone})`;
  return `${h.start}–${h.end}, ${formatDays(h.days)} (${schedule.timezone})`;
}

function formatDays(days) {
  const sorted = [...days].sort((a, b) => a - b);
  const contiguous = sorted.every((d, i) => i === 0 || d === sorted[i - 1] + 1);
  if (sorted.length === 7) return 'every day';
  if (contiguous && sorted.length > 2) return `${DAY_NAMES[sorted[0]]}–${DAY_NAMES[sorted[sorted.length - 1]]}`;
  return sorted.map((d) => DAY_NAMES[d]).join(', ');
}

function formatWhen(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

function formatWindow(schedule) {
  if (!schedule.startAt && !schedule.endAt) return 'No start or end date';
  return `${schedule.startAt ? formatWhen(schedule.startAt) : 'now'} → ${schedule.endAt ? formatWhen(schedule.endAt) : 'open-ended'}`;
}

function render(items) {
  els.queue.replaceChildren();
  els.count.textContent = items.length ? `(${items.length})` : '';
  els.empty.hidden = items.length > 0;
  for (const item of items) els.queue.append(renderItem(item));
}

function renderItem(item) {
  const node = els.template.content.firstElementChild.cloneNode(true);
  const c = item.campaign;
  const q = (sel) => node.querySelector(sel);
  const verb = VERBS[item.action] || item.action;
  node.dataset.actionId = item.id;
  q('.title').textContent = c ? `${verb} “${c.name}”` : `${verb} campaign ${item.campaignId}`;
  q('.badge').textContent = item.action;
  q('.badge').classList.add(`badge-${item.action}`);
  q('.purpose').textContent = c && c.purpose ? c.purpose : '';
  q('.purpose').hidden = !(c && c.purpose);
  if (c) {
    const agent = q('.f-agent');
    agent.textContent = c.agentName || c.agentId;
    if (c.agentName) {
      const id = document.createElement('span');
      id.className = 'sub';
      id.textContent = c.agentId;
      agent.append(id);
    }
    q('.f-contacts').textContent = c.contacts.toLocaleString();
    q('.f-hours').textContent = formatHours(c.schedule);
    q('.f-window').textContent = formatWindow(c.schedule);
    q('.f-pace').textContent = `${c.maxConcurrentCalls} at once · ${c.maxAttempts} attempts · retry after ${c.retryDelayMinutes} min`;
  } else {
    for (const sel of ['.f-agent', '.f-contacts', '.f-hours', '.f-window', '.f-pace']) q(sel).textContent = '—';
  }
  q('.f-requester').textContent = item.requestedBy;
  const when = q('.f-when');
  when.textContent = formatWhen(item.createdAt);
  when.title = item.createdAt;

  // Each control gets a unique id so its label is announced with the right campaign.
  const reasonId = `reason-${item.id}`;
  q('.reason').id = reasonId;
  q('.reason-label').htmlFor = reasonId;
  const approve = q('.approve');
  const reject = q('.reject');
  const label = c ? c.name : item.campaignId;
  approve.setAttribute('aria-label', `Approve: ${verb} ${label}`);
  reject.setAttribute('aria-label', `Reject: ${verb} ${label}`);
  if (!item.canDecide) {
    approve.disabled = true;
    reject.disabled = true;
    q('.reason').disabled = true;
    const note = q('.self-note');
    note.hidden = false;
    note.textContent = `Requested by your own owner (${item.requestedBy}): another reviewer must decide.`;
  }
  approve.addEventListener('click', () => decide(node, item, 'approve'));
  reject.addEventListener('click', () => decide(node, item, 'reject'));
  return node;
}

async function decide(node, item, verb) {
  const error = node.querySelector('.item-error');
  const buttons = node.querySelectorAll('button, textarea');
  error.textContent = '';
  buttons.forEach((b) => (b.disabled = true));
  const reason = node.querySelector('.reason').value.trim();
  try {
    const result = await api('POST', `/v1/approvals/${encodeURIComponent(item.id)}/${verb}`, reason ? { reason } : {});
    const name = item.campaign ? item.campaign.name : item.campaignId;
    const outcome =
      result.status === 'executed'
        ? `Approved: ${name} is now ${item.action === 'start' ? 'running' : item.action === 'pause' ? 'paused' : 'stopped'}.`
        : result.status === 'rejected'
          ? `Rejected: ${item.action} of ${name}.`
          : `Approved, but the campaign could not ${item.action} (it changed meanwhile).`;
    await load(outcome);
    els.queue.focus();
  } catch (err) {
    error.textContent = explain(err);
    if (err instanceof ApiError && (err.code === 'conflict' || err.code === 'not_found')) {
      await load(explain(err));
      return;
    }
    buttons.forEach((b) => (b.disabled = !item.canDecide));
    node.querySelector('.approve').focus();
  }
}

async function load(message) {
  setStatus('Loading…');
  try {
    const page = await api('GET', '/v1/approvals?limit=100');
    render(page.items);
    setStatus(message || (page.items.length ? `${page.items.length} pending.` : 'Nothing pending.'));
  } catch (err) {
    setStatus('');
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      showKeyForm(explain(err));
    } else {
      setStatus(explain(err));
    }
  }
}

function showKeyForm(message) {
  els.keySection.hidden = false;
  els.queueSection.hidden = true;
  els.who.hidden = true;
  els.keyError.textContent = message || '';
  els.keyInput.focus();
}

async function useKey(candidate) {
  key = candidate;
  try {
    const me = await api('GET', '/v1/me');
    if (!me.scopes.includes('approvals:write') && !me.scopes.includes('admin')) {
      throw new ApiError(403, 'forbidden', 'missing scope');
    }
    sessionStorage.setItem(KEY_STORAGE, key);
    els.who.hidden = false;
    els.who.textContent = `Signed in as ${me.owner}`;
    els.keySection.hidden = true;
    els.queueSection.hidden = false;
    await load();
    els.refresh.focus();
  } catch (err) {
    key = '';
    sessionStorage.removeItem(KEY_STORAGE);
    showKeyForm(explain(err));
  }
}

els.keyForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const value = els.keyInput.value.trim();
  if (!value) {
    els.keyError.textContent = 'Paste your API key first.';
    els.keyInput.focus();
    return;
  }
  els.keyInput.value = '';
  void useKey(value);
});
els.refresh.addEventListener('click', () => void load());
els.forget.addEventListener('click', () => {
  key = '';
  sessionStorage.removeItem(KEY_STORAGE);
  showKeyForm('Key forgotten.');
});

if (key) void useKey(key);
else showKeyForm();
