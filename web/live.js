/*
 * kafka-conntrace live page: fetches /api/connections?state=all,
 * /api/findings, /api/clients and /api/status every two seconds and draws
 * one row per client session and one bar per connection: coloured by
 * role, hatched from where it went idle, a diamond where a finding fired,
 * and an end mark coloured by who closed it. The same picture as
 * `kafka-conntrace report --svg`.
 */
'use strict';

const SVG_NS = 'http://www.w3.org/2000/svg';
const ROLES = ['bootstrap', 'data', 'coordinator', 'other'];
const CLOSERS = ['client', 'broker', 'proxy'];
const WIDTH = 1200, LEFT = 280, RIGHT = 20, LANE_H = 10, ROW_PAD = 8;
const MAX_LANES = 12;
const REFRESH_MS = 2000;

let token = sessionStorage.getItem('kc-token') || '';
let updates = 0;

function el(name, attrs, parent) {
  const e = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}

function text(parent, x, y, s, cls) {
  const t = el('text', {x, y}, parent);
  if (cls) t.setAttribute('class', cls);
  t.textContent = s;
  return t;
}

function title(parent, s) {
  el('title', {}, parent).textContent = s;
}

async function get(path) {
  const headers = token ? {Authorization: 'Bearer ' + token} : {};
  const r = await fetch(path, {headers, cache: 'no-store'});
  if (r.status === 401) {
    document.getElementById('token-form').hidden = false;
    throw new Error('the admin API wants a token');
  }
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
}

function drawLegend() {
  const svg = document.getElementById('legend');
  let x = 10;
  for (const r of ROLES) {
    el('rect', {class: 'role-' + r, x, y: 7, width: 14, height: 10}, svg);
    text(svg, x + 18, 16, r);
    x += 110;
  }
  el('rect', {class: 'role-data', x, y: 7, width: 14, height: 10}, svg);
  el('rect', {class: 'idle', x, y: 7, width: 14, height: 10}, svg);
  text(svg, x + 18, 16, 'idle');
  x += 70;
  el('path', {class: 'finding', d: `M${x + 5} 7 l5 5 l-5 5 l-5 -5 z`}, svg);
  text(svg, x + 14, 16, 'finding');
  x += 80;
  for (const c of CLOSERS) {
    el('rect', {class: 'closed-by-' + c, x, y: 5, width: 3, height: 14}, svg);
    text(svg, x + 8, 16, 'closed by ' + c);
    x += 130;
  }
}

/* Rows: connections grouped by client session; those not identified yet
 * (no request so far) by their address. */
function rowsOf(conns, clients) {
  const rows = new Map();
  for (const c of conns) {
    const key = c.session != null ? 's' + c.session : 'a' + c.client_addr;
    if (!rows.has(key)) {
      rows.set(key, {key, session: c.session, addr: c.client_addr,
                     client_id: c.client_id, software: c.client_software_name,
                     conns: []});
    }
    const row = rows.get(key);
    row.conns.push(c);
    if (c.client_id) row.client_id = c.client_id;
    if (c.client_software_name) row.software = c.client_software_name;
  }
  const out = [...rows.values()];
  out.sort((a, b) => (a.session ?? 1e12) - (b.session ?? 1e12) ||
           String(a.addr).localeCompare(String(b.addr)));
  for (const r of out) {
    r.conns.sort((a, b) => a.opened_s - b.opened_s || a.conn - b.conn);
    /* Each bar in the first lane free at its start. */
    const freeAt = [];
    for (const c of r.conns) {
      const end = c.closed_s ?? Infinity;
      let k = 0;
      while (k < MAX_LANES - 1 && freeAt[k] !== undefined && freeAt[k] > c.opened_s) k++;
      c.lane = k;
      freeAt[k] = Math.max(freeAt[k] ?? -Infinity, end);
    }
    r.lanes = Math.max(1, ...r.conns.map(c => c.lane + 1));
  }
  return out;
}

function fmtTime(t) {
  return new Date(t * 1000).toISOString().substring(11, 19);
}

function drawAxis(svg, t0, t1, y, h, x) {
  const steps = [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600, 86400];
  let step = steps[steps.length - 1];
  for (const s of steps) { if ((t1 - t0) / s <= 8) { step = s; break; } }
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) {
    el('line', {class: 'grid', x1: x(t), y1: y, x2: x(t), y2: y + h}, svg);
    text(svg, x(t), y - 4, fmtTime(t), 'tick');
  }
}

function draw(conns, findings, now) {
  const svg = document.getElementById('timeline');
  const rows = rowsOf(conns);
  const win = document.getElementById('window').value;
  let t0 = win === 'fit' ? Math.min(now - 10, ...conns.map(c => c.opened_s)) : now - Number(win);
  const t1 = now;
  const x = t => LEFT + Math.max(0, Math.min(1, (t - t0) / (t1 - t0 || 1))) * (WIDTH - LEFT - RIGHT);
  let height = 40;
  for (const r of rows) height += r.lanes * LANE_H + 2 * ROW_PAD;
  height += 20;
  svg.replaceChildren();
  svg.setAttribute('height', height);
  svg.setAttribute('viewBox', `0 0 ${WIDTH} ${height}`);
  const defs = el('defs', {}, svg);
  const pat = el('pattern', {id: 'idle-hatch', width: 4, height: 4,
                             patternUnits: 'userSpaceOnUse',
                             patternTransform: 'rotate(45)'}, defs);
  el('rect', {width: 4, height: 4, fill: '#fff', 'fill-opacity': 0.55}, pat);
  el('line', {x1: 0, y1: 0, x2: 0, y2: 4, stroke: '#fff', 'stroke-width': 2}, pat);
  let y = 30;
  drawAxis(svg, t0, t1, y, height - y - 20, x);
  el('line', {class: 'now', x1: x(now), y1: y, x2: x(now), y2: height - 20}, svg);
  const byConn = new Map();
  for (const r of rows) {
    const rowH = r.lanes * LANE_H + 2 * ROW_PAD;
    const g = el('g', {class: 'session', 'data-session': r.session ?? ''}, svg);
    el('rect', {class: 'row', x: 0, y, width: WIDTH, height: rowH - 2}, g);
    text(g, 6, y + 14, `${r.addr} ${r.client_id ?? '(no client id yet)'}`, 'label');
    text(g, 6, y + 26, `${r.software ?? ''} ${r.session != null ? '#' + r.session : ''} ` +
         `${r.conns.length} conns`, 'sub');
    for (const c of r.conns) {
      const by = y + ROW_PAD + c.lane * LANE_H;
      const end = c.closed_s ?? now;
      const x0 = x(c.opened_s);
      const x1 = Math.max(x(end), x0 + 2);
      const cg = el('g', {class: `conn ${c.state}`, 'data-conn': c.conn,
                          'data-role': c.role, 'data-state': c.state,
                          'data-closed-by': c.closed_by ?? ''}, g);
      title(cg, `conn ${c.conn} ${c.role}` +
            (c.broker_id != null ? ` broker ${c.broker_id}` : ' bootstrap listener') +
            `, ${c.duration_s.toFixed(1)} s, ${c.requests} requests` +
            (c.state === 'closed' ? `, closed by ${c.closed_by} (${c.how}, ${c.reason})`
                                  : ', open') +
            `, longest idle ${c.max_idle_s.toFixed(1)} s`);
      el('rect', {class: `bar role-${c.role}`, x: x0, y: by, width: x1 - x0,
                  height: LANE_H - 2}, cg);
      if (c.idle_since_s != null && end - c.idle_since_s >= 1) {
        const xi = x(c.idle_since_s);
        el('rect', {class: 'idle', x: xi, y: by, width: Math.max(1, x1 - xi),
                    height: LANE_H - 2}, cg);
      }
      if (c.state === 'closed') {
        el('rect', {class: `close closed-by-${c.closed_by}`, x: x1 - 1, y: by - 1,
                    width: 2, height: LANE_H}, cg);
      }
      byConn.set(c.conn, {g: cg, y: by});
    }
    y += rowH;
  }
  for (const f of findings) {
    const t = Date.parse(f.ts) / 1000;
    const target = byConn.get((f.conns || [])[0]);
    if (!target || t < t0) continue;
    const p = el('path', {class: 'finding', 'data-rule': f.rule,
                          d: `M${x(t)} ${target.y - 1} l5 5 l-5 5 l-5 -5 z`}, target.g);
    title(p, `${f.rule} (${f.severity}) ${JSON.stringify(f.evidence || {})}`);
  }
}

function cell(tr, s, cls) {
  const td = document.createElement('td');
  td.textContent = s;
  if (cls) td.className = cls;
  tr.appendChild(td);
}

function drawClients(clients) {
  const tbody = document.querySelector('#clients tbody');
  tbody.replaceChildren();
  for (const c of clients) {
    const tr = document.createElement('tr');
    cell(tr, '#' + c.session);
    cell(tr, c.client_addr);
    cell(tr, c.client_id ?? '');
    cell(tr, [c.client_software_name, c.client_software_version].filter(Boolean).join(' '));
    cell(tr, c.open_connections, 'num');
    cell(tr, Object.entries(c.open_by_role).map(([k, v]) => `${k} ${v}`).join(', '));
    cell(tr, c.total_connections, 'num');
    cell(tr, c.findings, 'num');
    cell(tr, c.last_seen.substring(11, 19));
    tbody.appendChild(tr);
  }
}

function drawFindings(findings) {
  const tbody = document.querySelector('#findings tbody');
  tbody.replaceChildren();
  for (const f of findings.slice(-20).reverse()) {
    const tr = document.createElement('tr');
    cell(tr, f.ts.substring(11, 19));
    cell(tr, f.rule);
    cell(tr, f.severity ?? '');
    cell(tr, f.client_id ?? '');
    cell(tr, (f.conns || []).join(', '));
    cell(tr, JSON.stringify(f.evidence || {}));
    tbody.appendChild(tr);
  }
}

async function refresh() {
  const status = document.getElementById('status');
  if (document.getElementById('pause').checked) return;
  try {
    const [c, f, cl, st] = await Promise.all([
      get('/api/connections?state=all'), get('/api/findings'),
      get('/api/clients'), get('/api/status')]);
    draw(c.connections, f.findings, c.now_s);
    drawClients(cl.clients);
    drawFindings(f.findings);
    status.className = '';
    status.textContent = `${st.version} on ${st.listen_addr}:${st.listen_port}, ` +
      `${st.open_connections} open, ${st.sessions} sessions` +
      (st.ready ? '' : ', not ready') + (st.draining ? ', draining' : '') +
      `, updated ${st.now.substring(11, 19)} UTC`;
    document.body.dataset.updates = ++updates;
  } catch (e) {
    status.className = 'error';
    status.textContent = String(e.message || e);
  }
}

document.getElementById('token-form').addEventListener('submit', ev => {
  ev.preventDefault();
  token = document.getElementById('token').value.trim();
  sessionStorage.setItem('kc-token', token);
  document.getElementById('token-form').hidden = true;
  refresh();
});
document.getElementById('window').addEventListener('change', refresh);
drawLegend();
refresh();
setInterval(refresh, REFRESH_MS);
