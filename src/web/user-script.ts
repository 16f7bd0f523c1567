/**
 * The user's page's script, served by the master as `/user.js` (plain
 * JavaScript, no build step, nothing from elsewhere). It listens to the
 * master's events (`/events`) and, when the jobs change, fetches the page
 * again and swaps in its table (or the job's details): no reload; when the
 * Slurm pools change, the event brings their section, put in as is. Each
 * button opens the confirmation dialog; on Yes it POSTs the action with the
 * session's CSRF token and shows the master's answer. On a job's page it
 * follows the job's output as `qpy follow` does.
 */
export const USER_SCRIPT = `'use strict';
(() => {
  const main = document.getElementById('page');
  if (!main) return;
  const csrf = main.dataset.csrf;
  const jobId = main.dataset.job;
  const message = document.getElementById('message');
  const say = (text) => { if (message) message.textContent = text; };

  // Swap in fresh parts of this page: the table, its summary and the pools, or the job's details and buttons.
  const parts = jobId ? ['job', 'actions'] : ['summary', 'jobs-body', 'pools'];
  let busy = false;
  let again = false;
  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const res = await fetch(location.pathname + location.search, { credentials: 'same-origin' });
      if (res.ok) {
        const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
        for (const id of parts) {
          const fresh = doc.getElementById(id);
          const here = document.getElementById(id);
          if (fresh && here) here.replaceWith(document.importNode(fresh, true));
        }
      }
    } catch (e) { /* the next event tries again */ }
    busy = false;
    if (again) { again = false; refresh(); }
  }
  const events = new EventSource('/events');
  events.addEventListener('jobs', refresh);
  // The Slurm pools section, rendered (and escaped) by the master.
  events.addEventListener('pools', (ev) => {
    const here = document.getElementById('pools');
    if (here && !jobId) here.innerHTML = JSON.parse(ev.data);
  });
  events.addEventListener('open', () => { main.dataset.live = 'yes'; });
  events.addEventListener('error', () => { main.dataset.live = 'no'; });

  // The buttons: confirm, then POST with the CSRF token.
  const dialog = document.getElementById('confirm');
  const words = { kill: 'Kill', hold: 'Hold', release: 'Release', retry: 'Retry' };
  let pending = null;
  document.addEventListener('click', (ev) => {
    const b = ev.target.closest && ev.target.closest('button[data-act]');
    if (!b || !dialog) return;
    pending = { action: b.dataset.act, id: b.dataset.job };
    document.getElementById('confirm-text').textContent = words[pending.action] + ' job ' + pending.id + '?';
    dialog.returnValue = '';
    dialog.showModal();
  });
  if (dialog) dialog.addEventListener('close', async () => {
    const p = pending;
    pending = null;
    if (!p || dialog.returnValue !== 'yes') return;
    const body = new URLSearchParams({ csrf, action: p.action, id: p.id });
    try {
      const res = await fetch('/action', { method: 'POST', body, credentials: 'same-origin' });
      const text = (await res.text()).trim();
      say(text);
    } catch (e) { say('The master did not answer.'); }
    refresh();
  });

  // A job's output, as it grows.
  const out = document.getElementById('output');
  if (jobId && out) {
    const decoder = new TextDecoder();
    let offset = 0;
    const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    (async function follow() {
      for (;;) {
        let r;
        try {
          const res = await fetch('/job/' + jobId + '/output?offset=' + offset, { credentials: 'same-origin' });
          if (!res.ok) return;
          r = await res.json();
        } catch (e) { return; }
        const data = bytes(r.data);
        offset += data.length;
        if (data.length > 0) out.textContent += decoder.decode(data, { stream: true });
        if (data.length === 0 && r.status !== 'queue' && r.status !== 'running') return;
        if (!r.more) await new Promise((ok) => setTimeout(ok, 300));
      }
    })();
  }
})();
`;
