// The ops dashboard: signs in with an admin token (kept in sessionStorage, sent only in the
// Authorization header), reads GET /api/v1/ops/stream with fetch() (EventSource cannot set
// headers) and renders each `snapshot` event in place. Every value is set with textContent.
'use strict';
(() => {
  const KEY = 'scale-ops-token';
  const API = '/api/v1/ops';
  const $ = (id) => document.getElementById(id);
  let controller = null;
  let retry = 1000;
  // What the scenario table was last built from: rebuilt only when that changes, so a button
  // is never replaced under the pointer.
  let scenariosShown = '';

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }

  function pill(node, text, cls) {
    node.textContent = text;
    node.className = 'pill' + (cls ? ' ' + cls : '');
  }

  function signedIn(on) {
    $('login').hidden = on;
    $('dashboard').hidden = !on;
    $('logout').hidden = !on;
  }

  function signOut(message) {
    sessionStorage.removeItem(KEY);
    const current = controller;
    controller = null;
    if (current) current.abort();
    signedIn(false);
    $('login-error').textContent = message || '';
    pill($('connection'), 'signed out');
  }

  function authorization() {
    return { Authorization: 'Bearer ' + sessionStorage.getItem(KEY) };
  }

  async function connect() {
    if (!sessionStorage.getItem(KEY)) {
      signedIn(false);
      return;
    }
    signedIn(true);
    const mine = new AbortController();
    controller = mine;
    pill($('connection'), 'connecting', 'warn');
    try {
      const res = await fetch(API + '/stream', {
        headers: { ...authorization(), Accept: 'text/event-stream' },
        signal: mine.signal,
        cache: 'no-store',
      });
      if (res.status === 401 || res.status === 403) {
        const problem = await res.json().catch(() => ({}));
        signOut(problem.detail || 'The token was refused.');
        return;
      }
      if (!res.ok || !res.body) throw new Error('HTTP ' + res.status);
      pill($('connection'), 'live', 'ok');
      retry = 1000;
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          handle(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (err) {
      if (mine.signal.aborted) return;
      console.warn('ops stream', err);
    }
    if (mine !== controller) return;
    pill($('connection'), 'reconnecting', 'warn');
    setTimeout(() => { if (mine === controller) connect(); }, retry);
    retry = Math.min(retry * 2, 10000);
  }

  function handle(frame) {
    let event = 'message';
    const data = [];
    for (const line of frame.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
    }
    if (event === 'snapshot' && data.length) render(JSON.parse(data.join('\n')));
  }

  const STATUS_CLASS = {
    running: 'ok', starting: 'warn', restarting: 'warn', stalled: 'bad', escalated: 'bad',
    up: 'ok', down: 'bad', unknown: 'warn', disabled: '', ready: 'ok', degraded: 'warn',
    unavailable: 'bad', redis: 'ok', local: '',
  };

  function status(text) {
    const node = el('span', text, 'pill ' + (STATUS_CLASS[text] || ''));
    return node;
  }

  function duration(ms) {
    if (ms === null || ms === undefined) return '–';
    if (ms < 1000) return Math.round(ms) + ' ms';
    if (ms < 120000) return (ms / 1000).toFixed(1) + ' s';
    if (ms < 7200000) return Math.round(ms / 60000) + ' min';
    return (ms / 3600000).toFixed(1) + ' h';
  }

  function render(s) {
    const readiness = s.readiness || 'unknown';
    pill($('readiness'), readiness, STATUS_CLASS[readiness]);
    $('reasons').textContent = (s.reasons || []).join(' · ');
    renderActors(s.actors, s.chaos_enabled);
    pill($('chaos'), s.chaos_enabled ? 'chaos enabled' : 'chaos disabled',
      s.chaos_enabled ? 'warn' : '');
    renderDependencies(s);
    renderChaos(s.chaos);
    list($('jobs'), s.jobs ? [
      ['Pending', s.jobs.pending],
      ['Processing', s.jobs.processing],
      ['Failed (24 h)', s.jobs.failed_last_day],
      ['Oldest pending', s.jobs.oldest_pending_age_s === null ? 'none waiting'
        : duration(s.jobs.oldest_pending_age_s * 1000)],
      ['Live leases', s.jobs.live_leases],
      ['Workers', s.jobs.workers],
      ['This process', s.jobs.role],
    ] : [['Queue', 'not read yet']]);
    const t = s.traffic;
    list($('traffic'), [
      ['Requests', t.requests_per_s.toFixed(2) + ' /s'],
      ['5xx', (t.error_rate * 100).toFixed(2) + ' %'],
      ['p95', t.p95_ms === null ? '–' : '≤ ' + duration(t.p95_ms)],
      ['Window', Math.round(t.window_s) + ' s'],
    ]);
    const problems = $('problems');
    problems.replaceChildren(...s.problems.map((p) => {
      const item = el('li', null, p.level);
      item.append(el('time', new Date(p.at).toLocaleTimeString()), p.message);
      return item;
    }));
    if (!s.problems.length) problems.append(el('li', 'none seen', 'muted'));
    $('updated').textContent = new Date(s.at).toLocaleTimeString();
  }

  function list(dl, pairs) {
    dl.replaceChildren(...pairs.flatMap(([term, value]) => [el('dt', term), el('dd', value)]));
  }

  function renderDependencies(s) {
    const rows = [['postgres', s.postgres], ['redis', s.redis]].map(([name, dep]) => {
      const row = el('tr');
      row.append(el('td', name));
      const state = el('td');
      state.append(status(dep ? dep.status : 'unknown'));
      row.append(state,
        el('td', dep && dep.latency_ms !== null ? dep.latency_ms.toFixed(1) + ' ms' : '–', 'num'),
        el('td', dep && dep.error, 'error'));
      return row;
    });
    const bus = el('tr');
    const mode = el('td');
    mode.append(status(s.events || 'unknown'));
    bus.append(el('td', 'event bus'), mode, el('td'), el('td'));
    rows.push(bus);
    $('dependencies').tBodies[0].replaceChildren(...rows);
  }

  function renderActors(actors, chaos) {
    const body = $('actors').tBodies[0];
    const seen = new Set();
    for (const actor of actors) {
      seen.add(actor.name);
      let row = body.querySelector(`tr[data-actor="${CSS.escape(actor.name)}"]`);
      if (!row) {
        row = el('tr');
        row.dataset.actor = actor.name;
        for (const cls of ['name', 'status', 'restarts num', 'backlog num', 'heartbeat num',
          'last-error error', 'control']) row.append(el('td', null, cls));
        body.append(row);
      }
      const cells = row.cells;
      cells[0].textContent = actor.name;
      cells[1].replaceChildren(status(actor.status));
      cells[2].textContent = actor.restarts;
      cells[3].textContent = actor.backlog;
      cells[4].textContent = duration(actor.last_heartbeat_ms) + ' ago';
      cells[5].textContent = actor.last_error || '';
      if (chaos && !cells[6].firstChild) {
        const button = el('button', 'Crash', 'crash');
        button.type = 'button';
        button.addEventListener('click', () => crash(actor.name, button));
        cells[6].append(button);
      } else if (!chaos) {
        cells[6].replaceChildren();
      }
    }
    for (const row of [...body.rows]) if (!seen.has(row.dataset.actor)) row.remove();
  }

  // The chaos panel: shown only when the process runs a chaos monkey.
  function renderChaos(chaos) {
    $('chaos-panel').hidden = !chaos;
    if (!chaos) return;
    const run = chaos.running;
    pill($('chaos-state'), run ? 'running ' + run.scenario : 'idle', run ? 'bad' : '');
    $('chaos-stop').disabled = !run;
    const counts = (r) => Object.entries(r.injected).map(([f, n]) => `${f} ×${n}`).join(', ')
      + (r.slow_clients_dropped ? `; slow clients dropped by the server: ${r.slow_clients_dropped}` : '');
    if (run) {
      const active = run.active.map((a) => a.fault + (a.target ? ` (${a.target})` : '')
        + ` ${duration(a.remaining_ms)} left`);
      $('chaos-run').textContent = `${run.scenario}: ${Math.round(run.progress * 100)} % of `
        + `${duration(run.length_ms)}; active: ${active.join(', ') || 'none'}; `
        + `injected: ${counts(run) || 'nothing yet'}`;
    } else if (chaos.last) {
      const last = chaos.last;
      $('chaos-run').textContent = `last run: ${last.scenario} ${last.ended} after `
        + `${duration(last.elapsed_ms)}; injected: ${counts(last) || 'nothing'}`
        + (last.errors.length ? `; errors: ${last.errors.join('; ')}` : '');
    } else {
      $('chaos-run').textContent = 'no scenario run yet';
    }
    const shown = JSON.stringify([chaos.scenarios, Boolean(run)]);
    if (shown === scenariosShown) return;
    scenariosShown = shown;
    const rows = chaos.scenarios.map((scenario) => {
      const row = el('tr');
      row.dataset.scenario = scenario.name;
      const start = el('button', 'Start', 'start');
      start.type = 'button';
      start.disabled = Boolean(run || scenario.invalid);
      start.addEventListener('click', () => chaosAction(
        { action: 'start', scenario: scenario.name }, `start of ${scenario.name}`));
      const control = el('td');
      control.append(start);
      row.append(el('td', scenario.name), el('td', duration(scenario.length_ms), 'num'),
        el('td', scenario.invalid || scenario.description, scenario.invalid ? 'error' : ''),
        control);
      return row;
    });
    $('scenarios').tBodies[0].replaceChildren(...rows);
  }

  async function chaosAction(body, what) {
    try {
      const res = await fetch(API + '/chaos', {
        method: 'POST',
        headers: { ...authorization(), 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      const problem = res.ok ? null : await res.json().catch(() => ({}));
      $('chaos-action').textContent = `${what}: HTTP ${res.status}`
        + (problem && problem.detail ? ` (${problem.detail})` : '');
    } catch (err) {
      $('chaos-action').textContent = `${what} failed: ${err}`;
    }
  }

  async function crash(name, button) {
    if (!window.confirm(`Crash actor ${name}? Its supervisor restarts it.`)) return;
    button.disabled = true;
    try {
      const res = await fetch(`${API}/actors/${encodeURIComponent(name)}/crash`, {
        method: 'POST', headers: authorization(),
      });
      $('action').textContent = `crash of ${name} sent (HTTP ${res.status})`;
    } catch (err) {
      $('action').textContent = `crash of ${name} failed: ${err}`;
    } finally {
      button.disabled = false;
    }
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', (event) => {
      event.preventDefault();
      const token = $('token').value.trim();
      if (!token) return;
      sessionStorage.setItem(KEY, token);
      $('token').value = '';
      $('login-error').textContent = '';
      connect();
    });
    $('logout').addEventListener('click', () => signOut());
    $('chaos-stop').addEventListener('click', () => chaosAction({ action: 'stop' }, 'stop'));
    connect();
  });
})();
