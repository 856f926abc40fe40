// Phone numbers: registered numbers (bought in Twilio by a person; voxgate only routes them),
// which agent answers each, register one, attach an agent, remove one.
import { api, listAll, session } from './api.js';
import { agentName, loadAgents } from './agent-names.js';
import { explain, fmtTime, h, labelCells, showFieldErrors, toast } from './dom.js';

export async function render(view) {
  const agents = await loadAgents();
  const canWrite = session.can('numbers:write');
  view.append(h('div', { class: 'page-head' }, h('h1', {}, 'Phone numbers')));
  let numbers;
  try {
    numbers = await listAll('/v1/phone-numbers');
  } catch (err) {
    view.append(h('p', { class: 'error', role: 'alert' }, explain(err)));
    return null;
  }
  const agentOptions = (selected) => [h('option', { value: '' }, '— none —'), ...[...agents.values()].filter((a) => a.architecture !== 'text').map((a) => h('option', { value: a.id, selected: a.id === selected }, a.name))];
  view.append(
    h('div', { class: 'table-wrap' },
      labelCells(h('table', { id: 'numbers', class: 'table' },
        h('thead', {}, h('tr', {}, ...['Number', 'Label', 'Agent', 'Registered', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, ...numbers.map((n) =>
          h('tr', { dataset: { numberId: n.id } },
            h('td', { class: 'mono' }, n.phoneNumber),
            h('td', {}, n.label || '—'),
            h('td', {}, canWrite && session.can('agents:write') && agents.size
              ? h('select', { 'aria-label': `Agent for ${n.phoneNumber}`, onchange: (ev) => void attach(n, ev.target.value) }, ...agentOptions(n.agentId))
              : n.agentId ? agentName(agents, n.agentId) : '—'),
            h('td', {}, fmtTime(n.createdAt)),
            h('td', {}, canWrite ? h('button', { type: 'button', class: 'btn btn-small', onclick: () => void remove(n) }, 'Remove') : null))))))),
    ...(numbers.length === 0 ? [h('p', { class: 'empty' }, 'No numbers registered. Buy one in Twilio, point its voice webhook at /twilio/voice, and register it here.')] : []),
  );

  async function attach(n, agentId) {
    try {
      if (agentId) await api('POST', `/v1/agents/${encodeURIComponent(agentId)}/phone`, { phoneNumberId: n.id });
      toast(agentId ? `${n.phoneNumber} now rings ${agentName(agents, agentId)}.` : 'Unchanged: attach another agent to move the number.');
    } catch (err) {
      toast(explain(err), 'error');
    }
  }
  async function remove(n) {
    if (!confirm(`Remove ${n.phoneNumber} from voxgate? (It stays yours in Twilio.)`)) return;
    try {
      await api('DELETE', `/v1/phone-numbers/${encodeURIComponent(n.id)}`);
      location.reload();
    } catch (err) {
      toast(explain(err), 'error');
    }
  }

  if (canWrite) {
    const form = h('form', { class: 'card form inline-form', id: 'number-form', novalidate: true },
      h('h2', { class: 'field-wide' }, 'Register a number'),
      h('div', { class: 'field' }, h('label', { for: 'num-phone' }, 'Number (E.164)'), h('input', { id: 'num-phone', name: 'phoneNumber', placeholder: '+14155550123', inputmode: 'tel' })),
      h('div', { class: 'field' }, h('label', { for: 'num-label' }, 'Label'), h('input', { id: 'num-label', name: 'label' })),
      h('div', { class: 'field' }, h('label', { for: 'num-agent' }, 'Agent'), h('select', { id: 'num-agent', name: 'agentId' }, ...agentOptions(null))),
      h('p', { class: 'form-error error', role: 'alert', hidden: true }),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Register')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const f = form.elements;
      const body = { phoneNumber: f.namedItem('phoneNumber').value.trim() };
      if (f.namedItem('label').value.trim()) body.label = f.namedItem('label').value.trim();
      if (f.namedItem('agentId').value) body.agentId = f.namedItem('agentId').value;
      try {
        await api('POST', '/v1/phone-numbers', body);
        location.reload();
      } catch (err) {
        showFieldErrors(form, err);
      }
    });
    view.append(form);
  }
  return null;
}
