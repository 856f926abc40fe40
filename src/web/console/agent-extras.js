// Below an agent's form: try it in a web call, its webhook tools, its env vars (names only:
// values are write-only, API.md), and the knowledge documents it searches during calls.

import { api, listAll, session } from './api.js';
import { clear, explain, h, showFieldErrors, toast } from './dom.js';

export async function renderExtras(view, agent) {
  const canWrite = session.can('agents:write');
  if (agent.architecture !== 'text' && (agent.voiceMode === 'web' || agent.voiceMode === 'web_and_phone') && session.can('calls:write')) {
    view.append(webCallCard(agent));
  }
  if (agent.architecture !== 'text') view.append(await toolsCard(agent, canWrite));
  view.append(await envCard(agent, canWrite));
  if (session.can('knowledge:read')) view.append(await knowledgeCard(agent, canWrite));
}

function webCallCard(agent) {
  const out = h('div', { class: 'web-call-out' });
  const btn = h('button', { type: 'button', class: 'btn btn-primary', id: 'agent-web-call' }, 'Start a web call');
  btn.addEventListener('click', async () => {
    btn.disabled = true;
    try {
      const res = await api('POST', '/v1/web-calls', { agentId: agent.id });
      clear(out).append(
        h('p', {}, 'Open this single-use link (valid 5 minutes) to talk to the agent: ',
          h('a', { id: 'agent-web-call-link', href: res.pageUrl, target: '_blank', rel: 'noopener noreferrer' }, 'join the call'),
          ' · ', h('a', { href: `#/calls/${encodeURIComponent(res.callId)}` }, 'follow it here')),
        ...(res.warnings || []).map((w) => h('p', { class: 'warning' }, `⚠ ${w}`)),
      );
    } catch (err) {
      clear(out).append(h('p', { class: 'error', role: 'alert' }, explain(err)));
    } finally {
      btn.disabled = false;
    }
  });
  return h('section', { class: 'card' }, h('h2', {}, 'Try it'), btn, out);
}

async function toolsCard(agent, canWrite) {
  const card = h('section', { class: 'card', id: 'agent-tools' }, h('h2', {}, 'Tools'));
  const list = h('ul', { class: 'plain-list' });
  card.append(list);
  async function load() {
    try {
      const res = await api('GET', `/v1/agents/${encodeURIComponent(agent.id)}/tools`);
      const items = res.items || [];
      clear(list).append(...items.map((t) =>
        h('li', { dataset: { tool: t.name } },
          h('strong', {}, t.name), t.builtin ? h('span', { class: 'tag' }, 'built-in') : t.preset ? h('span', { class: 'tag' }, t.preset) : null,
          h('span', { class: 'muted' }, ` ${t.description || ''}`),
          t.url ? h('span', { class: 'mono small muted' }, ` ${t.method || 'POST'} ${t.url}`) : null,
          canWrite && !t.builtin ? h('button', { type: 'button', class: 'btn btn-small', onclick: () => void del(t.name) }, 'Remove') : null)));
      if (items.length === 0) list.append(h('li', { class: 'muted' }, 'No tools.'));
    } catch (err) {
      clear(list).append(h('li', { class: 'error' }, explain(err)));
    }
  }
  async function del(name) {
    try {
      await api('DELETE', `/v1/agents/${encodeURIComponent(agent.id)}/tools/${encodeURIComponent(name)}`);
      await load();
    } catch (err) {
      toast(explain(err), 'error');
    }
  }
  await load();
  if (!canWrite) return card;
  const form = h('form', { class: 'form inline-form', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'tool-name' }, 'Name'), h('input', { id: 'tool-name', name: 'name', placeholder: 'check_order' })),
    h('div', { class: 'field' }, h('label', { for: 'tool-url' }, 'Webhook URL'), h('input', { id: 'tool-url', name: 'url', placeholder: 'https://…' })),
    h('div', { class: 'field' }, h('label', { for: 'tool-method' }, 'Method'), h('select', { id: 'tool-method', name: 'method' }, h('option', {}, 'POST'), h('option', {}, 'GET'))),
    h('div', { class: 'field field-wide' }, h('label', { for: 'tool-description' }, 'Description (what the LLM reads)'), h('input', { id: 'tool-description', name: 'description' })),
    h('div', { class: 'field field-wide' }, h('label', { for: 'tool-parameters' }, 'Parameters (JSON Schema)'), h('textarea', { id: 'tool-parameters', name: 'parameters', rows: 3 }, '{"type":"object","properties":{}}')),
    h('p', { class: 'form-error error', role: 'alert', hidden: true }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn' }, 'Add tool')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = form.elements;
    let parameters;
    try {
      parameters = JSON.parse(f.namedItem('parameters').value || '{}');
    } catch {
      return showFieldErrors(form, { code: 'validation_failed', message: 'invalid', details: [{ field: 'parameters', message: 'is not valid JSON' }] });
    }
    try {
      await api('POST', `/v1/agents/${encodeURIComponent(agent.id)}/tools`, {
        name: f.namedItem('name').value.trim(), description: f.namedItem('description').value.trim(), url: f.namedItem('url').value.trim(), method: f.namedItem('method').value, parameters,
      });
      form.reset();
      showFieldErrors(form, { details: [] });
      form.querySelector('.form-error').hidden = true;
      await load();
    } catch (err) {
      showFieldErrors(form, err);
    }
  });
  card.append(h('details', {}, h('summary', {}, 'Add a webhook tool'), form));
  return card;
}

async function envCard(agent, canWrite) {
  const card = h('section', { class: 'card', id: 'agent-env' }, h('h2', {}, 'Env vars'), h('p', { class: 'muted small' }, 'Secrets for tools and brains ({{env.NAME}}). Values are encrypted and never shown again.'));
  const list = h('ul', { class: 'plain-list' });
  card.append(list);
  const base = `/v1/agents/${encodeURIComponent(agent.id)}/env-vars`;
  async function load() {
    try {
      const res = await api('GET', base);
      const names = (res.items || res.names || []).map((x) => (typeof x === 'string' ? x : x.name));
      clear(list).append(...names.map((n) => h('li', { dataset: { env: n } }, h('code', {}, n), ' ', h('span', { class: 'muted' }, '•••••• (set)'),
        canWrite ? h('button', { type: 'button', class: 'btn btn-small', onclick: () => void del(n) }, 'Remove') : null)));
      if (names.length === 0) list.append(h('li', { class: 'muted' }, 'None.'));
    } catch (err) {
      clear(list).append(h('li', { class: 'error' }, explain(err)));
    }
  }
  async function del(n) {
    try {
      await api('DELETE', `${base}/${encodeURIComponent(n)}`);
      await load();
    } catch (err) {
      toast(explain(err), 'error');
    }
  }
  await load();
  if (!canWrite) return card;
  const form = h('form', { class: 'form inline-form', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'env-name' }, 'Name'), h('input', { id: 'env-name', name: 'name', placeholder: 'CRM_TOKEN', autocomplete: 'off' })),
    h('div', { class: 'field' }, h('label', { for: 'env-value' }, 'Value'), h('input', { id: 'env-value', name: 'value', type: 'password', autocomplete: 'new-password' })),
    h('p', { class: 'form-error error', role: 'alert', hidden: true }),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn' }, 'Set')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const name = form.elements.namedItem('name').value.trim();
    try {
      await api('PUT', `${base}/${encodeURIComponent(name)}`, { value: form.elements.namedItem('value').value });
      form.reset();
      form.querySelector('.form-error').hidden = true;
      await load();
    } catch (err) {
      showFieldErrors(form, err);
    }
  });
  card.append(form);
  return card;
}

async function knowledgeCard(agent, canWrite) {
  const card = h('section', { class: 'card', id: 'agent-knowledge' }, h('h2', {}, 'Knowledge'));
  let docs = [];
  try {
    docs = await listAll('/v1/knowledge');
  } catch (err) {
    card.append(h('p', { class: 'error' }, explain(err)));
    return card;
  }
  const chosen = new Set(agent.knowledgeIds);
  const form = h('form', { class: 'form' },
    docs.length === 0 ? h('p', { class: 'muted' }, 'No documents yet.') : null,
    h('ul', { class: 'plain-list' }, ...docs.map((d) => h('li', {}, h('label', { class: 'check' },
      h('input', { type: 'checkbox', name: 'doc', value: d.id, checked: chosen.has(d.id), disabled: !canWrite }), ` ${d.name}`,
      h('span', { class: 'muted small' }, ` ${d.sourceUrl || 'text'}`))))),
    canWrite && docs.length ? h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn' }, 'Save knowledge')) : null);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const ids = [...form.querySelectorAll('input[name=doc]:checked')].map((i) => i.value);
    try {
      await api('PATCH', `/v1/agents/${encodeURIComponent(agent.id)}/knowledge`, { documentIds: ids });
      toast('Knowledge saved.');
    } catch (err) {
      toast(explain(err), 'error');
    }
  });
  card.append(form);
  if (session.can('knowledge:write') && canWrite) {
    const add = h('form', { class: 'form inline-form' },
      h('div', { class: 'field' }, h('label', { for: 'doc-name' }, 'Name'), h('input', { id: 'doc-name', name: 'name' })),
      h('div', { class: 'field field-wide' }, h('label', { for: 'doc-text' }, 'Text'), h('textarea', { id: 'doc-text', name: 'text', rows: 3 })),
      h('p', { class: 'form-error error', role: 'alert', hidden: true }),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'btn' }, 'Add document')));
    add.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      try {
        const doc = await api('POST', '/v1/knowledge/text', { name: add.elements.namedItem('name').value.trim(), text: add.elements.namedItem('text').value });
        await api('PATCH', `/v1/agents/${encodeURIComponent(agent.id)}/knowledge`, { documentIds: [...agent.knowledgeIds, doc.id] });
        agent.knowledgeIds.push(doc.id);
        toast('Document added to this agent.');
        card.replaceWith(await knowledgeCard(agent, canWrite));
      } catch (err) {
        showFieldErrors(add, err);
      }
    });
    card.append(h('details', {}, h('summary', {}, 'Add a text document'), add));
  }
  return card;
}
