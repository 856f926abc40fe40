// API keys: list, create with scopes (only scopes this key holds can be granted — API.md), and
// revoke. A new key's secret is shown once, here, and never again.
import { api, listAll, session } from './api.js';
import { clear, explain, fmtTime, h, labelCells, showFieldErrors, toast } from './dom.js';

const SCOPES = ['agents:read', 'agents:write', 'numbers:read', 'numbers:write', 'calls:read', 'calls:write', 'knowledge:read', 'knowledge:write',
  'campaigns:read', 'campaigns:write', 'campaigns:execute', 'approvals:write', 'keys:write', 'read:all', 'admin'];

export async function render(view) {
  const table = h('div', { class: 'table-wrap' });
  const created = h('div', { role: 'status' });
  view.append(h('div', { class: 'page-head' }, h('h1', {}, 'API keys')), created, table);

  async function load() {
    try {
      const keys = await listAll('/v1/keys');
      clear(table).append(labelCells(h('table', { id: 'keys', class: 'table' },
        h('thead', {}, h('tr', {}, ...['Name', 'Owner', 'Scopes', 'Created', 'State', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, ...keys.map((k) => h('tr', { dataset: { keyId: k.id } },
          h('td', {}, k.name || h('span', { class: 'muted' }, k.id)),
          h('td', {}, k.owner),
          h('td', { class: 'scopes' }, ...k.scopes.map((s) => h('span', { class: 'chip' }, s))),
          h('td', {}, fmtTime(k.createdAt)),
          h('td', {}, k.revokedAt ? `Revoked ${fmtTime(k.revokedAt)}` : k.id === session.me.keyId ? 'Active (this key)' : 'Active'),
          h('td', {}, !k.revokedAt && k.id !== session.me.keyId ? h('button', { type: 'button', class: 'btn btn-small btn-danger', onclick: () => void revoke(k) }, 'Revoke') : null)))))));
    } catch (err) {
      clear(table).append(h('p', { class: 'error' }, explain(err)));
    }
  }
  async function revoke(k) {
    if (!confirm(`Revoke the key ${k.name || k.id} of ${k.owner}? Anything using it stops working at once.`)) return;
    try {
      await api('DELETE', `/v1/keys/${encodeURIComponent(k.id)}`);
      toast('Key revoked.');
      await load();
    } catch (err) {
      toast(explain(err), 'error');
    }
  }

  const grantable = SCOPES.filter((s) => session.me.scopes.includes('admin') || session.me.scopes.includes(s));
  const form = h('form', { class: 'card form', id: 'key-form', novalidate: true },
    h('h2', { class: 'field-wide' }, 'Create a key'),
    h('div', { class: 'field' }, h('label', { for: 'key-name' }, 'Name'), h('input', { id: 'key-name', name: 'name', placeholder: 'CRM integration' })),
    h('div', { class: 'field' }, h('label', { for: 'key-owner' }, 'Owner'), h('input', { id: 'key-owner', name: 'owner', value: session.me.owner })),
    h('fieldset', { class: 'field field-wide scopes-pick' }, h('legend', {}, 'Scopes'),
      h('input', { type: 'hidden', name: 'scopes' }),
      ...grantable.map((s) => h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'scope', value: s }), ` ${s}`))),
    h('p', { class: 'form-error error', role: 'alert', hidden: true }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create key')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const scopes = [...form.querySelectorAll('input[name=scope]:checked')].map((i) => i.value);
    const body = { owner: form.elements.namedItem('owner').value.trim(), scopes };
    const name = form.elements.namedItem('name').value.trim();
    if (name) body.name = name;
    try {
      const k = await api('POST', '/v1/keys', body);
      form.reset();
      form.elements.namedItem('owner').value = session.me.owner;
      form.querySelector('.form-error').hidden = true;
      clear(created).append(h('section', { class: 'card notice' },
        h('p', {}, `Key for ${k.owner} created. Copy it now: it is shown only once.`),
        h('code', { class: 'secret', id: 'new-key-secret' }, k.key)));
      await load();
    } catch (err) {
      showFieldErrors(form, err);
    }
  });
  await load();
  view.append(form);
  return null;
}
