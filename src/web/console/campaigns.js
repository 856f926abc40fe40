// Campaigns: the list and a form to create one (draft). Starting it is a request a person
// approves (Approvals), never a click here.
import { api, listAll, session } from './api.js';
import { agentName, loadAgents } from './agent-names.js';
import { explain, fmtTime, h, labelCells, showFieldErrors } from './dom.js';

export const CAMPAIGN_STATUS = { draft: 'Draft', running: 'Running', paused: 'Paused', stopped: 'Stopped', completed: 'Completed' };

export async function render(view) {
  const agents = await loadAgents();
  view.append(h('div', { class: 'page-head' }, h('h1', {}, 'Campaigns')));
  let campaigns;
  try {
    campaigns = await listAll('/v1/campaigns');
  } catch (err) {
    view.append(h('p', { class: 'error', role: 'alert' }, explain(err)));
    return null;
  }
  view.append(
    h('div', { class: 'table-wrap' },
      labelCells(h('table', { id: 'campaigns', class: 'table' },
        h('thead', {}, h('tr', {}, ...['Name', 'Status', 'Agent', 'Contacts', 'Done', 'Created'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, ...campaigns.map((c) =>
          h('tr', { dataset: { campaignId: c.id }, class: 'clickable', onclick: () => (location.hash = `#/campaigns/${encodeURIComponent(c.id)}`) },
            h('td', {}, h('a', { href: `#/campaigns/${encodeURIComponent(c.id)}`, onclick: (ev) => ev.stopPropagation() }, c.name)),
            h('td', {}, h('span', { class: 'badge', dataset: { status: c.status } }, CAMPAIGN_STATUS[c.status] || c.status)),
            h('td', {}, agentName(agents, c.agentId)),
            h('td', {}, String(c.contacts.total)),
            h('td', {}, String(c.contacts.completed)),
            h('td', {}, fmtTime(c.createdAt)))))))),
    ...(campaigns.length === 0 ? [h('p', { class: 'empty' }, 'No campaigns yet.')] : []),
  );
  if (session.can('campaigns:write')) view.append(await createForm(agents));
  return null;
}

async function createForm(agents) {
  let numbers = [];
  if (session.can('numbers:read')) numbers = await listAll('/v1/phone-numbers').catch(() => []);
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const form = h('form', { class: 'card form', id: 'campaign-form', novalidate: true },
    h('h2', { class: 'field-wide' }, 'New campaign'),
    h('div', { class: 'field' }, h('label', { for: 'cmp-name' }, 'Name'), h('input', { id: 'cmp-name', name: 'name' })),
    h('div', { class: 'field' }, h('label', { for: 'cmp-agent' }, 'Agent'), h('select', { id: 'cmp-agent', name: 'agentId' }, ...[...agents.values()].filter((a) => a.architecture !== 'text').map((a) => h('option', { value: a.id }, a.name)))),
    h('div', { class: 'field' }, h('label', { for: 'cmp-from' }, 'Calls from'), h('select', { id: 'cmp-from', name: 'fromNumberId' }, ...numbers.map((n) => h('option', { value: n.id }, `${n.phoneNumber}${n.label ? ` (${n.label})` : ''}`)))),
    h('div', { class: 'field field-wide' }, h('label', { for: 'cmp-purpose' }, 'Purpose (reviewers read it)'), h('input', { id: 'cmp-purpose', name: 'purpose' })),
    h('div', { class: 'field' }, h('label', { for: 'cmp-tz' }, 'Timezone'), h('input', { id: 'cmp-tz', name: 'schedule.timezone', value: tz })),
    h('div', { class: 'field' }, h('label', { for: 'cmp-start' }, 'Calling hours from'), h('input', { id: 'cmp-start', name: 'schedule.callingHours.start', type: 'time', value: '09:00' })),
    h('div', { class: 'field' }, h('label', { for: 'cmp-end' }, 'to'), h('input', { id: 'cmp-end', name: 'schedule.callingHours.end', type: 'time', value: '17:00' })),
    h('div', { class: 'field' }, h('label', { for: 'cmp-max' }, 'Calls at once'), h('input', { id: 'cmp-max', name: 'maxConcurrentCalls', type: 'number', min: '1', max: '100', value: '5' })),
    h('div', { class: 'field field-wide' }, h('label', { for: 'cmp-extract' }, 'Extraction schema (JSON Schema; its properties become result columns)'),
      h('textarea', { id: 'cmp-extract', name: 'extractionSchema', rows: 3, placeholder: '{"type":"object","properties":{"interested":{"type":"boolean"}}}' })),
    h('p', { class: 'form-error error', role: 'alert', hidden: true }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create draft')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const v = (n) => form.elements.namedItem(n).value.trim();
    const body = {
      name: v('name'),
      agentId: v('agentId'),
      fromNumberId: v('fromNumberId'),
      schedule: { timezone: v('schedule.timezone'), callingHours: { start: v('schedule.callingHours.start'), end: v('schedule.callingHours.end'), days: [1, 2, 3, 4, 5] } },
      maxConcurrentCalls: Number(v('maxConcurrentCalls') || 5),
    };
    if (v('purpose')) body.purpose = v('purpose');
    if (v('extractionSchema')) {
      try {
        body.extractionSchema = JSON.parse(v('extractionSchema'));
      } catch {
        return showFieldErrors(form, { message: 'invalid', details: [{ field: 'extractionSchema', message: 'is not valid JSON' }] });
      }
    }
    try {
      const c = await api('POST', '/v1/campaigns', body);
      location.hash = `#/campaigns/${encodeURIComponent(c.id)}`;
    } catch (err) {
      showFieldErrors(form, err);
    }
  });
  return form;
}
