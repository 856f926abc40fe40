// One campaign: its facts, contacts from a CSV (parsed here, sent in batches of ≤ 5000),
// the results table with one column per extraction field, and start/pause/stop requests —
// each a request that a person of another owner approves on the Approvals page.
import { api, session } from './api.js';
import { agentName, loadAgents } from './agent-names.js';
import { CAMPAIGN_STATUS } from './campaigns.js';
import { clear, explain, h, labelCells, toast } from './dom.js';
import { contactsFromCsv } from './csv.js';

/** API.md: at most 5000 contacts per request. */
const BATCH = 5000;

export async function render(view, { id }) {
  const agents = await loadAgents();
  let c;
  try {
    c = await api('GET', `/v1/campaigns/${encodeURIComponent(id)}`);
  } catch (err) {
    view.append(h('section', { class: 'card' }, h('h1', {}, 'Campaign not found'), h('p', { class: 'error' }, explain(err)), h('a', { href: '#/campaigns' }, '← All campaigns')));
    return null;
  }
  const facts = h('dl', { class: 'facts' });
  const results = h('div', { class: 'table-wrap' });
  const requests = h('p', { class: 'muted', id: 'campaign-requests' });
  const showFacts = () => {
    const s = c.schedule || {};
    const hours = s.callingHours ? `${s.callingHours.start}–${s.callingHours.end} (${s.timezone})` : `any time (${s.timezone || 'UTC'})`;
    clear(facts).append(...[
      ['Status', CAMPAIGN_STATUS[c.status] || c.status], ['Agent', agentName(agents, c.agentId)], ['Purpose', c.purpose || '—'], ['Calling hours', hours],
      ['Contacts', `${c.contacts.total} (${c.contacts.pending} pending, ${c.contacts.completed} done, ${c.contacts.failed + c.contacts.exhausted} failed)`],
      ['Calls at once', String(c.maxConcurrentCalls)], ['Attempts', `up to ${c.maxAttempts}, ${c.retryDelayMinutes} min apart`],
    ].map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))));
  };
  const actions = session.can('campaigns:execute')
    ? h('div', { class: 'actions' }, ...['start', 'pause', 'stop'].map((a) => h('button', { type: 'button', class: `btn${a === 'start' ? ' btn-primary' : a === 'stop' ? ' btn-danger' : ''}`, dataset: { campaignAction: a }, onclick: () => void request(a) }, `Request ${a}`)))
    : null;

  view.append(
    h('p', { class: 'crumbs' }, h('a', { href: '#/campaigns' }, '← All campaigns')),
    h('div', { class: 'page-head' }, h('h1', {}, c.name), h('span', { class: 'badge', dataset: { status: c.status } }, CAMPAIGN_STATUS[c.status] || c.status)),
    h('section', { class: 'card' }, facts, actions, requests),
  );
  showFacts();

  async function request(action) {
    try {
      const res = await api('POST', `/v1/campaigns/${encodeURIComponent(c.id)}/${action}`);
      requests.textContent = `Asked to ${action}: waiting for a reviewer’s approval (action ${res.actionId}).`;
      requests.dataset.actionId = res.actionId;
      toast(`The ${action} request is waiting for approval.`);
    } catch (err) {
      toast(explain(err), 'error');
    }
  }

  if (session.can('campaigns:write')) view.append(uploadCard(c, async () => {
    c = await api('GET', `/v1/campaigns/${encodeURIComponent(c.id)}`);
    showFacts();
    await loadResults();
  }));
  view.append(h('section', { class: 'card' }, h('h2', {}, 'Results'), results));

  async function loadResults() {
    try {
      const r = await api('GET', `/v1/campaigns/${encodeURIComponent(c.id)}/results`);
      const cols = r.columns || [];
      clear(results).append(labelCells(h('table', { class: 'table', id: 'campaign-results' },
        h('thead', {}, h('tr', {}, ...['Phone', 'Name', 'Status', 'Attempts', ...cols].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, ...r.rows.map((row) => h('tr', { dataset: { contactId: row.contactId } },
          h('td', { class: 'mono' }, row.phone), h('td', {}, row.name || '—'), h('td', {}, row.status), h('td', {}, String(row.attempts)),
          ...cols.map((col) => h('td', {}, cell(row.result ? row.result[col] : undefined)))))))));
      if (r.rows.length === 0) results.append(h('p', { class: 'empty' }, 'No contacts yet.'));
    } catch (err) {
      clear(results).append(h('p', { class: 'error' }, explain(err)));
    }
  }
  await loadResults();
  return null;
}

function cell(v) {
  if (v === undefined || v === null) return '—';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

function uploadCard(c, after) {
  const out = h('div', { class: 'upload-out', role: 'status' });
  const file = h('input', { type: 'file', accept: '.csv,text/csv', id: 'contacts-file', name: 'file' });
  const form = h('form', { class: 'form inline-form', id: 'contacts-form' },
    h('div', { class: 'field field-wide' }, h('label', { for: 'contacts-file' }, 'Contacts CSV (columns: phone, name, externalId; others become variables)'), file),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn' }, 'Upload contacts')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = file.files && file.files[0];
    if (!f) return void (out.textContent = 'Choose a CSV file first.');
    const { contacts, problems } = contactsFromCsv(await f.text());
    let created = 0;
    let updated = 0;
    let failed = 0;
    const errors = [...problems];
    try {
      for (let i = 0; i < contacts.length; i += BATCH) {
        const r = await api('POST', `/v1/campaigns/${encodeURIComponent(c.id)}/contacts`, { contacts: contacts.slice(i, i + BATCH) });
        created += r.created;
        updated += r.updated;
        failed += r.failed;
        errors.push(...r.errors.map((e) => `Row ${i + e.index + 2}: ${e.message}`));
      }
    } catch (err) {
      errors.push(explain(err));
    }
    clear(out).append(h('p', {}, `${created} added, ${updated} updated, ${failed + problems.length} refused.`), ...errors.slice(0, 20).map((e) => h('p', { class: 'error small' }, e)));
    await after();
  });
  return h('section', { class: 'card' }, h('h2', {}, 'Contacts'), form, out);
}
