// The district dashboard: sign in, pick a node of the org tree, and read its overview
// (GET /v1/orgs/{id}/overview) as tiles, charts and tables, exportable as CSV. The chosen node and
// range live in the address (#org=…&from=…&to=…), so a reload or a new sign-in returns to them.
import {
  ApiError, SessionExpired, get, getPublic, session, signIn, signOut,
} from './api.js';
import {
  hasLabels, lang, localeTag, setLabels, setLang, t, translateStatic,
} from './i18n.js';

const $ = (id) => document.getElementById(id);
const VIEW_ROLES = new Set([
  'ROLE_COMMUNITY_STAFF', 'ROLE_STREET_STAFF', 'ROLE_DISTRICT_ADMIN', 'ROLE_ORG_VIEWER',
]);

const state = {
  overview: null, // the last answer shown
  homes: [], // the nodes the caller's grants name: where the crumbs start
  names: new Map(), // org id → name, for crumbs
  sort: { key: 'name', dir: 1 },
};

// ---- figures ----

function threshold() {
  return state.overview?.smallCellRule?.threshold ?? 5;
}

// A Figure ({value, withheld}) or a plain count as the page shows it.
function show(figure) {
  if (figure === undefined || figure === null) return '0';
  if (typeof figure === 'object') {
    if (figure.withheld) return `<${threshold()}`;
    return Number(figure.value ?? 0).toLocaleString(lang() === 'en' ? 'en' : 'zh-CN');
  }
  return Number(figure).toLocaleString(lang() === 'en' ? 'en' : 'zh-CN');
}

// A number for sorting and charts: a withheld cell sorts between 0 and 1 and is not drawn.
function numeric(figure, forChart = false) {
  if (figure && typeof figure === 'object') {
    if (figure.withheld) return forChart ? null : 0.5;
    return Number(figure.value ?? 0);
  }
  return Number(figure ?? 0);
}

const COLUMNS = [
  ['ridersRegistered', (n) => n.ridersRegistered],
  ['ridersCheckedIn', (n) => n.ridersCheckedIn],
  ['ridersActive', (n) => n.ridersActive],
  ['postSeatsFilled', (n) => n.postSeatsFilled],
  ['activitiesHeld', (n) => n.activitiesHeld],
  ['attendancesConfirmed', (n) => n.attendancesConfirmed],
  ['reviewBacklog', (n) => n.reviewBacklog],
  ['pointsIssued', (n) => n.pointsIssued],
  ['pointsRedeemed', (n) => n.pointsRedeemed],
  ['pointsOutstanding', (n) => n.pointsOutstanding],
  ['giftsHandedOut', (n) => n.giftsHandedOut],
  ['riderStations', (n) => n.riderStations],
  ['loveCorners', (n) => n.loveCorners],
];

function daysSince(timestamp) {
  return Math.max(0, Math.floor((Date.now() - Date.parse(timestamp)) / 86400000));
}

function renderTiles(node) {
  const tiles = $('tiles');
  tiles.replaceChildren();
  const add = (key, figure, sub = '') => {
    const tile = document.createElement('div');
    tile.className = 'tile';
    tile.dataset.tile = key;
    const label = document.createElement('div');
    label.className = 'label';
    label.textContent = t(key);
    const value = document.createElement('div');
    value.className = 'value';
    value.textContent = figure;
    tile.append(label, value);
    if (sub) {
      const s = document.createElement('div');
      s.className = 'sub';
      s.textContent = sub;
      tile.append(s);
    }
    tiles.append(tile);
  };
  for (const [key, pick] of COLUMNS) {
    let sub = '';
    if (key === 'postSeatsFilled') sub = t('postsOpen', { n: node.postsOpen ?? 0 });
    if (key === 'reviewBacklog' && node.reviewBacklogOldestTime) {
      sub = t('waitingSince', { n: daysSince(node.reviewBacklogOldestTime) });
    }
    add(key, show(pick(node)), sub);
  }
  add('coverage', `${show(node.communitiesCovered)} / ${show(node.communitiesTotal)}`);
}

// ---- tables ----

function table(el, head, rows) {
  const thead = document.createElement('thead');
  const tr = document.createElement('tr');
  for (const h of head) {
    const th = document.createElement('th');
    th.textContent = h.label;
    if (h.key) th.dataset.key = h.key;
    tr.append(th);
  }
  thead.append(tr);
  const tbody = document.createElement('tbody');
  if (rows.length === 0) {
    const r = document.createElement('tr');
    const td = document.createElement('td');
    td.colSpan = head.length;
    td.className = 'muted';
    td.textContent = t('none');
    r.append(td);
    tbody.append(r);
  }
  for (const row of rows) {
    const r = document.createElement('tr');
    for (const cell of row) {
      const td = document.createElement('td');
      td.textContent = cell;
      r.append(td);
    }
    tbody.append(r);
  }
  el.replaceChildren(thead, tbody);
}

function childRows() {
  const rows = [...(state.overview.children ?? [])];
  const { key, dir } = state.sort;
  const pick = COLUMNS.find(([k]) => k === key)?.[1];
  rows.sort((a, b) => {
    if (!pick) return dir * (a.orgName ?? '').localeCompare(b.orgName ?? '', 'zh-CN');
    return dir * (numeric(pick(a)) - numeric(pick(b)));
  });
  return rows;
}

function renderChildren() {
  const el = $('children-table');
  el.closest('section').hidden = !(state.overview.children ?? []).length;
  const head = [{ key: 'name', label: t('name') },
    ...COLUMNS.map(([key]) => ({ key, label: t(key) }))];
  const rows = childRows().map((n) => [n.orgName, ...COLUMNS.map(([, pick]) => show(pick(n)))]);
  table(el, head, rows);
  for (const th of el.querySelectorAll('th')) {
    if (th.dataset.key === state.sort.key) {
      th.setAttribute('aria-sort', state.sort.dir > 0 ? 'ascending' : 'descending');
    }
    th.addEventListener('click', () => {
      const same = state.sort.key === th.dataset.key;
      state.sort = { key: th.dataset.key, dir: same ? -state.sort.dir : (th.dataset.key === 'name' ? 1 : -1) };
      renderChildren();
    });
  }
}

function renderLists(o) {
  table($('top-table'), [{ label: t('rank') }, { label: t('riderName') }, { label: t('score') }],
    (o.topRiders ?? []).map((r) => [r.rank, r.displayName || '—', show(r.score)]));
  $('top-period').textContent = o.topRidersPeriod?.key ?? '';
  table($('records-table'), [{ label: t('kind') }, { label: t('status') }, { label: t('count') }],
    (o.node.serviceRecords ?? []).map((r) => [t(r.kind), t(r.status), show(r.records)]));
  table($('gifts-table'), [{ label: t('gift') }, { label: t('items') }, { label: t('pointsSpent') }],
    (o.gifts ?? []).map((g) => [g.giftName, show(g.itemsHandedOut), show(g.pointsSpent)]));
  table($('stations-table'), [{ label: t('station') }, { label: t('items') }, { label: t('pointsSpent') }],
    (o.stations ?? []).map((s) => [s.stationName || s.stationId, show(s.itemsHandedOut), show(s.pointsSpent)]));
}

// ---- charts ----

function chart(id, option) {
  if (!window.echarts) return;
  const el = $(id);
  const c = window.echarts.getInstanceByDom(el) ?? window.echarts.init(el);
  c.setOption({
    animation: false, grid: { left: 48, right: 48, top: 40, bottom: 56 }, ...option,
    legend: option.legend ? { top: 0, ...option.legend } : undefined,
  }, true);
}

function renderCharts(o) {
  const days = o.daily?.pointsIssued ?? [];
  chart('chart-points', {
    tooltip: { trigger: 'axis' },
    legend: { data: [t('issued'), t('redeemed')] },
    xAxis: { type: 'category', data: days.map((d) => d.day.slice(5)) },
    yAxis: { type: 'value' },
    series: [
      { name: t('issued'), type: 'line', data: days.map((d) => Number(d.value)) },
      { name: t('redeemed'), type: 'line', data: (o.daily?.pointsRedeemed ?? []).map((d) => Number(d.value)) },
    ],
  });
  const kids = o.children?.length ? o.children : [o.node];
  const names = kids.map((n) => n.orgName);
  chart('chart-children', {
    tooltip: { trigger: 'axis' },
    legend: { data: [t('pointsIssued'), t('checkedIn')] },
    xAxis: { type: 'category', data: names, axisLabel: { interval: 0, rotate: names.length > 4 ? 30 : 0 } },
    yAxis: [{ type: 'value' }, { type: 'value' }],
    series: [
      { name: t('pointsIssued'), type: 'bar', data: kids.map((n) => Number(n.pointsIssued ?? 0)) },
      { name: t('checkedIn'), type: 'bar', yAxisIndex: 1, data: kids.map((n) => numeric(n.ridersCheckedIn, true)) },
    ],
  });
  chart('chart-backlog', {
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'category', data: names, axisLabel: { interval: 0, rotate: names.length > 4 ? 30 : 0 } },
    yAxis: { type: 'value', minInterval: 1 },
    series: [{ name: t('backlog'), type: 'bar', data: kids.map((n) => numeric(n.reviewBacklog, true)) }],
  });
  const coverage = o.coverage ?? [];
  chart('chart-coverage', {
    tooltip: { trigger: 'axis' },
    legend: { data: [t('stations'), t('corners')] },
    xAxis: { type: 'category', data: coverage.map((c) => c.orgName || c.orgId),
      axisLabel: { interval: 0, rotate: coverage.length > 4 ? 30 : 0 } },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      { name: t('stations'), type: 'bar', stack: 'places', data: coverage.map((c) => Number(c.riderStations)) },
      { name: t('corners'), type: 'bar', stack: 'places', data: coverage.map((c) => Number(c.loveCorners)) },
    ],
  });
}

window.addEventListener('resize', () => {
  if (!window.echarts) return;
  for (const el of document.querySelectorAll('.chart')) window.echarts.getInstanceByDom(el)?.resize();
});

// ---- CSV ----

function csvCell(text) {
  let s = String(text ?? '');
  // A name a spreadsheet would read as a formula is kept as text.
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function exportCsv() {
  const o = state.overview;
  if (!o) return;
  const lines = [[t('name'), ...COLUMNS.map(([key]) => t(key))]];
  for (const n of [o.node, ...childRows()]) {
    lines.push([n.orgName, ...COLUMNS.map(([, pick]) => show(pick(n)).replace(/[,\s]/g, ''))]);
  }
  // A byte-order mark so spreadsheet programs read the Chinese names as UTF-8.
  const text = `\ufeff${lines.map((l) => l.map(csvCell).join(',')).join('\r\n')}\r\n`;
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  link.download = `overview-${o.node.orgId}-${o.fromDay}-${o.toDay}.csv`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

// ---- navigation ----

function today() {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(new Date());
}

function addDays(day, n) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

function place() {
  const p = new URLSearchParams(location.hash.slice(1));
  const to = p.get('to') || today();
  return { org: p.get('org') || '', from: p.get('from') || addDays(to, -29), to };
}

function go(changes) {
  const p = { ...place(), ...changes };
  const hash = `#org=${encodeURIComponent(p.org)}&from=${p.from}&to=${p.to}`;
  if (location.hash === hash) load();
  else location.hash = hash; // hashchange loads
}

function renderCrumbs(o) {
  const path = o.orgPath ?? {};
  const chain = ['root', path.districtId, path.streetId, path.communityId, o.node.orgId]
    .filter((id, i, all) => id && all.indexOf(id) === i);
  const start = chain.findIndex((id) => state.homes.some((h) => h.orgId === id));
  const crumbs = $('crumbs');
  crumbs.replaceChildren();
  for (const id of chain.slice(Math.max(0, start))) {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = state.names.get(id) || id;
    b.addEventListener('click', () => go({ org: id }));
    li.append(b);
    crumbs.append(li);
  }
  const chips = $('child-nodes');
  chips.replaceChildren();
  const homes = start < 0 || chain.length === 0 ? state.homes : [];
  for (const n of [...homes, ...(o.children ?? [])]) {
    if (n.orgId === o.node.orgId) continue;
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'chip';
    b.dataset.org = n.orgId;
    b.textContent = n.orgName;
    b.addEventListener('click', () => go({ org: n.orgId }));
    chips.append(b);
  }
}

function showError(text) {
  $('board-error').textContent = text;
  $('board-error').hidden = !text;
}

async function load() {
  const p = place();
  const form = $('range');
  form.from.value = p.from;
  form.to.value = p.to;
  if (!p.org) {
    if (!state.homes.length) return showError(t('noNodes'));
    go({ org: state.homes[0].orgId });
    return;
  }
  showError('');
  try {
    const o = await get(`/v1/orgs/${encodeURIComponent(p.org)}/overview?fromDay=${p.from}&toDay=${p.to}`);
    state.overview = o;
    state.names.set(o.node.orgId, o.node.orgName);
    for (const c of o.children ?? []) state.names.set(c.orgId, c.orgName);
    const m = (o.smallCellRule?.threshold ?? 5) - 1;
    $('rule').textContent = o.smallCellRule?.applied
      ? t('ruleApplied', { n: m + 1, m }) : t('ruleExact');
    $('figures').hidden = false;
    renderCrumbs(o);
    renderTiles(o.node);
    renderChildren();
    renderLists(o);
    renderCharts(o);
  } catch (e) {
    if (e instanceof SessionExpired) return showSignIn(t('expired'));
    $('figures').hidden = true;
    if (e instanceof ApiError && e.status === 403) return showError(t('forbidden', { id: p.org }));
    showError(t('failed', { message: e.message }));
  }
}

// The nodes the caller's grants name, highest first: where the tree starts for them.
async function loadHomes() {
  const me = await get('/v1/auth/whoami');
  const level = { ORG_LEVEL_CITY: 0, ORG_LEVEL_DISTRICT: 1, ORG_LEVEL_STREET: 2, ORG_LEVEL_COMMUNITY: 3 };
  state.homes = (me.roleGrants ?? [])
    .filter((g) => VIEW_ROLES.has(g.role) && g.status !== 'ROLE_GRANT_STATUS_REVOKED')
    .map((g) => ({ orgId: g.orgId, orgName: g.orgName || g.orgId, level: level[g.orgLevel] ?? 9 }))
    .filter((g, i, all) => all.findIndex((x) => x.orgId === g.orgId) === i)
    .sort((a, b) => a.level - b.level);
  for (const h of state.homes) state.names.set(h.orgId, h.orgName);
}

async function showBoard() {
  $('sign-in').hidden = true;
  $('board').hidden = false;
  $('sign-out').hidden = false;
  try {
    await loadHomes();
  } catch (e) {
    if (e instanceof SessionExpired) return showSignIn(t('expired'));
    return showError(t('failed', { message: e.message }));
  }
  await load();
}

function showSignIn(note = '') {
  $('board').hidden = true;
  $('sign-out').hidden = true;
  $('sign-in').hidden = false;
  $('sign-in-note').textContent = note;
  $('sign-in-note').hidden = !note;
}

// The catalogue's labels for the page's language, once per language (public: no sign-in). A
// failure leaves enum names showing rather than the page broken.
async function loadLabels() {
  if (hasLabels()) return;
  try {
    setLabels(await getPublic(`/v1/labels?locale=${localeTag()}`));
  } catch {
    // Enum names it is.
  }
}

// ---- wiring ----

function applyLanguage() {
  translateStatic();
  $('lang').textContent = t('otherLanguage');
  if (state.overview && !$('board').hidden) {
    renderTiles(state.overview.node);
    renderChildren();
    renderLists(state.overview);
    renderCharts(state.overview);
    const m = threshold() - 1;
    $('rule').textContent = state.overview.smallCellRule?.applied
      ? t('ruleApplied', { n: m + 1, m }) : t('ruleExact');
  }
}

$('lang').addEventListener('click', async () => {
  setLang(lang() === 'zh' ? 'en' : 'zh');
  applyLanguage();
  // The catalogue's labels in the new language come a moment later (once per language).
  await loadLabels();
  applyLanguage();
});

$('sign-in-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = event.target;
  $('sign-in-error').hidden = true;
  try {
    const answer = await signIn(form.phone.value.trim(), form.password.value);
    if (answer.passwordChangeRequired) throw new Error(t('mustChange'));
    form.password.value = '';
    await showBoard();
  } catch (e) {
    $('sign-in-error').textContent = e instanceof ApiError && e.status === 401 ? t('badLogin')
      : (e.message || String(e));
    $('sign-in-error').hidden = false;
  }
});

$('sign-out').addEventListener('click', async () => {
  await signOut();
  state.overview = null;
  showSignIn();
});

$('range').addEventListener('submit', (event) => {
  event.preventDefault();
  go({ from: event.target.from.value, to: event.target.to.value });
});

$('export').addEventListener('click', exportCsv);
window.addEventListener('hashchange', () => {
  if (session()) load();
});

setLang(lang());
applyLanguage();
loadLabels().then(() => {
  applyLanguage();
  if (session()) showBoard();
  else showSignIn();
});
