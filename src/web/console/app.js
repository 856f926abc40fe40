// The console shell: sign-in, the section links the key's scopes allow, and a hash router
// (#/calls, #/calls/<id>, #/agents/<id>, …) so pages need no server routes of their own.
// Each page module exports `render(view, params)` and returns a cleanup function (timers,
// streams), which runs when the operator navigates away.

import { api, ApiError, recordingWorker, session } from './api.js';
import { $, clear, explain, h } from './dom.js';

const SECTIONS = [
  { path: 'calls', label: 'Calls', scope: 'calls:read', load: () => import('./calls.js') },
  { path: 'agents', label: 'Agents', scope: 'agents:read', load: () => import('./agents.js') },
  { path: 'numbers', label: 'Phone numbers', scope: 'numbers:read', load: () => import('./numbers.js') },
  { path: 'campaigns', label: 'Campaigns', scope: 'campaigns:read', load: () => import('./campaigns.js') },
  { path: 'approvals', label: 'Approvals', scope: 'approvals:write', load: () => import('./approvals.js') },
  { path: 'keys', label: 'API keys', scope: 'keys:write', load: () => import('./keys.js') },
];

/** Detail pages: `#/calls/<id>` and `#/agents/<id|new>` have their own modules. */
const DETAIL = {
  calls: () => import('./call.js'),
  agents: () => import('./agent-form.js'),
  campaigns: () => import('./campaign.js'),
};

const els = {
  signin: $('#signin-section'),
  form: $('#console-signin'),
  input: $('#signin-key'),
  error: $('#signin-error'),
  nav: $('#nav'),
  who: $('#who'),
  signout: $('#signout'),
  view: $('#view'),
};

let cleanup = null;

function showSignin(message) {
  session.key = '';
  session.me = null;
  els.nav.hidden = true;
  els.signout.hidden = true;
  els.who.textContent = '';
  clear(els.view);
  els.signin.hidden = false;
  els.error.hidden = !message;
  els.error.textContent = message || '';
  els.input.focus();
}

async function signIn(key) {
  session.key = key;
  try {
    session.me = await api('GET', '/v1/me');
  } catch (err) {
    const msg = err instanceof ApiError && err.status === 401 ? 'This key is not recognised (or was revoked).' : explain(err);
    showSignin(msg);
    return false;
  }
  els.signin.hidden = true;
  els.who.textContent = `Signed in as ${session.me.owner}`;
  els.who.title = `key ${session.me.keyId}: ${session.me.scopes.join(', ')}`;
  els.signout.hidden = false;
  clear(els.nav).append(
    ...SECTIONS.filter((s) => session.can(s.scope)).map((s) => h('a', { href: `#/${s.path}`, dataset: { section: s.path } }, s.label)),
  );
  els.nav.hidden = false;
  return true;
}

async function route() {
  if (!session.me) return;
  if (cleanup) {
    try {
      cleanup();
    } catch {
      /* a page's cleanup must not block the next page */
    }
    cleanup = null;
  }
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const allowed = SECTIONS.filter((s) => session.can(s.scope));
  let section = allowed.find((s) => s.path === parts[0]);
  if (!section) {
    if (allowed.length === 0) {
      clear(els.view).append(h('section', { class: 'card' }, h('h1', {}, 'Nothing to show'), h('p', {}, `This key (${session.me.scopes.join(', ')}) may not read any console section.`)));
      return;
    }
    section = allowed[0];
    history.replaceState(null, '', `#/${section.path}`);
    parts.splice(0, parts.length, section.path);
  }
  for (const a of els.nav.querySelectorAll('a')) a.toggleAttribute('aria-current', a.dataset.section === section.path);
  const mod = parts[1] && DETAIL[section.path] ? await DETAIL[section.path]() : await section.load();
  const view = clear(els.view);
  document.title = `${section.label} · voxgate console`;
  cleanup = (await mod.render(view, { id: parts[1], rest: parts.slice(2) })) || null;
}

els.form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const key = els.input.value.trim();
  if (!key) return;
  if (await signIn(key)) {
    els.input.value = '';
    await route();
  }
});
els.signout.addEventListener('click', () => {
  if (cleanup) cleanup();
  cleanup = null;
  showSignin('');
});
window.addEventListener('hashchange', () => void route());
// A request anywhere that finds the key revoked sends the operator back to sign-in.
window.addEventListener('voxgate:unauthorized', () => showSignin('The key was refused (revoked?). Sign in again.'));

// Early, so the worker controls this page before a recording is opened.
void recordingWorker();

(async () => {
  if (session.key && (await signIn(session.key))) await route();
  else if (!session.me) showSignin('');
})();
