// The district dashboard in a real browser: Debian's chromium driven headless by playwright-core
// (tools/package.json) against the running suite (ctest fixture cp_suite) with the story's demo
// loaded (cp_demo, which loads nothing twice).
//
// The demo's street worker signs in, picks 清远西街社区, and every tile shows what the overview
// RPC answers for that token; the children table sorts; the CSV export holds the node's row. The
// demo's district official (ROLE_ORG_VIEWER) sees small counts as "<5", is refused another
// district with the page saying so, and, once the session expires, is returned to sign-in and then
// to the node they had chosen. Screenshots go to the build directory (desktop and phone widths).
//
//   node tests/browser/dashboard.mjs   (CP_SUITE_* name the suite; CP_DEMO_BIN the loader;
//                                       CP_BROWSER_OUT where screenshots and the CSV go)
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const require = createRequire(path.join(root, 'tools', 'package.json'));
const { chromium } = require('playwright-core');

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run under ctest, fixture cp_suite)`);
  return value;
};
const base = env('CP_SUITE_HTTP_URL');
const out = process.env.CP_BROWSER_OUT || path.join(root, 'build');
const STREET_WORKER = '17035209001';
const OFFICIAL = '17035209003';
const STAFF_PASSWORD = 'Staff-demo-2026';

let failures = 0;
function check(ok, what) {
  if (ok) {
    console.log(`ok   ${what}`);
  } else {
    failures += 1;
    console.log(`FAIL ${what}`);
  }
}

async function rest(method, p, token, body) {
  const res = await fetch(base + p, {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'Content-Type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function login(phone) {
  return (await rest('POST', '/v1/auth:login', undefined, { phone, password: STAFF_PASSWORD }))
    .tokens.accessToken;
}

// What the page shows for a figure, as the page formats it in Chinese.
function shown(figure, threshold) {
  if (figure && typeof figure === 'object') {
    if (figure.withheld) return `<${threshold}`;
    return Number(figure.value).toLocaleString('zh-CN');
  }
  return Number(figure ?? 0).toLocaleString('zh-CN');
}

const TILES = ['ridersRegistered', 'ridersCheckedIn', 'ridersActive', 'postSeatsFilled',
  'activitiesHeld', 'attendancesConfirmed', 'reviewBacklog', 'pointsIssued', 'pointsRedeemed',
  'pointsOutstanding', 'giftsHandedOut', 'riderStations', 'loveCorners'];

async function tileText(page, key) {
  return (await page.locator(`[data-tile="${key}"] .value`).textContent()).trim();
}

async function signIn(page, phone) {
  await page.fill('input[name=phone]', phone);
  await page.fill('input[name=password]', STAFF_PASSWORD);
  await page.click('#sign-in-form button[type=submit]');
  await page.waitForSelector('#figures:not([hidden]) [data-tile="ridersCheckedIn"]');
}

async function pick(page, name) {
  await page.click(`#child-nodes button:has-text("${name}")`);
  await page.waitForFunction(
    (n) => document.querySelector('#crumbs li:last-child')?.textContent === n, name);
  await page.waitForSelector('#figures:not([hidden])');
}

async function main() {
  // The demo, so the story's people and figures are there (a second load changes nothing).
  execFileSync(env('CP_DEMO_BIN'), [
    `--gateway=${env('CP_SUITE_GATEWAY_ADDR')}`,
    `--admin_password=${env('CP_SUITE_ADMIN_PASSWORD')}`,
    `--admin_demo_password=${env('CP_SUITE_ADMIN_PASSWORD')}`,
  ], { stdio: ['ignore', 'ignore', 'inherit'] });

  const browser = await chromium.launch({
    executablePath: process.env.CP_CHROMIUM || '/usr/bin/chromium',
    args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
  });
  try {
    const context = await browser.newContext({
      viewport: { width: 1280, height: 900 }, acceptDownloads: true, locale: 'zh-CN',
    });
    const page = await context.newPage();
    page.on('pageerror', (e) => check(false, `no script error on the page: ${e.message}`));

    // ---- the street worker ----
    await page.goto(`${base}/dashboard/`);
    // The form shows once the page's script has run (after the labels load): waited for, as a
    // slow build (ASan) may take longer than the page's load event.
    check(await page.waitForSelector('#sign-in-form', { state: 'visible', timeout: 15000 })
      .then(() => true, () => false), 'the page opens on sign-in');
    await signIn(page, STREET_WORKER);
    check((await page.textContent('#crumbs li:last-child')) === '清远街道',
      "the street worker starts at their street (清远街道)");
    await pick(page, '清远西街社区');
    const staffToken = await login(STREET_WORKER);
    const hash = new URLSearchParams(new URL(page.url()).hash.slice(1));
    const community = hash.get('org');
    const o = await rest('GET',
      `/v1/orgs/${community}/overview?fromDay=${hash.get('from')}&toDay=${hash.get('to')}`, staffToken);
    check(o.smallCellRule.applied === false, 'staff of the node see exact figures');
    for (const key of TILES) {
      const want = shown(o.node[key], o.smallCellRule.threshold);
      const got = await tileText(page, key);
      check(got === want, `tile ${key}: page ${got}, overview ${want}`);
    }
    check(Number(o.node.ridersCheckedIn.value) === 56, 'the demo community has its 56 riders');
    check(Number(o.node.reviewBacklog.value) === 3, 'staff see the 3 reports awaiting review');
    const topRows = await page.locator('#top-table tbody tr').count();
    check(topRows === Math.min(15, o.topRiders.length) && topRows > 0,
      `the top 15 table lists ${topRows} riders`);
    // Under the names the riders chose for rankings: the demo's riders keep the default, masked.
    const firstName = await page.locator('#top-table tbody tr:first-child td:nth-child(2)').textContent();
    check(firstName === o.topRiders[0].displayName && /^.\*+.?$/u.test(firstName),
      `names are the riders' masked ranking names (${firstName})`);
    await page.screenshot({ path: path.join(out, 'dashboard-street.png'), fullPage: true });

    // Back up to the street: the children table sorts by a column, both ways.
    await page.click('#crumbs li:first-child button');
    await page.waitForFunction(() => document.querySelector('#crumbs li:last-child')?.textContent === '清远街道');
    await page.waitForSelector('#children-table tbody tr');
    await page.click('#children-table th[data-key="pointsIssued"]');
    check((await page.getAttribute('#children-table th[data-key="pointsIssued"]', 'aria-sort')) === 'descending',
      'the children table sorts by points issued');

    // CSV of what is shown.
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export')]);
    const csvPath = path.join(out, 'dashboard-export.csv');
    await download.saveAs(csvPath);
    const csv = fs.readFileSync(csvPath, 'utf8').replace(/^\ufeff/, '');
    const lines = csv.trim().split(/\r\n/);
    check(lines[0].startsWith('名称,注册骑手,入驻骑手'), `the CSV has a header (${lines[0].slice(0, 30)}…)`);
    check(lines.some((l) => l.startsWith('清远街道,')), "the CSV has the street's own row");
    check(lines.some((l) => l.startsWith('清远西街社区,')), 'the CSV has the community row');

    // English as the second language.
    await page.click('#lang');
    check((await page.textContent('[data-tile="ridersCheckedIn"] .label')) === 'Riders checked in',
      'the labels switch to English');
    const englishRecords = await page.waitForFunction(() => {
      const cells = [...document.querySelectorAll('#records-table tbody td:nth-child(-n+2)')];
      return cells.length > 0 && cells.every((td) => /^[A-Z][a-z]/.test(td.textContent));
    }, null, { timeout: 5000 }).then(() => true, () => false);
    check(englishRecords, "record kinds and statuses switch to the catalogue's English labels");
    await page.click('#lang');

    // ---- the district official, a viewer ----
    await page.click('#sign-out');
    await page.waitForSelector('#sign-in-form');
    await page.goto(`${base}/dashboard/`);
    await signIn(page, OFFICIAL);
    check((await page.textContent('#crumbs li:last-child')) === '平城区', 'the official starts at 平城区');
    await pick(page, '清远街道');
    await pick(page, '清远西街社区');
    const viewerToken = await login(OFFICIAL);
    const vhash = new URLSearchParams(new URL(page.url()).hash.slice(1));
    const v = await rest('GET',
      `/v1/orgs/${vhash.get('org')}/overview?fromDay=${vhash.get('from')}&toDay=${vhash.get('to')}`, viewerToken);
    check(v.smallCellRule.applied === true, 'the viewer gets the small-cell rule');
    check((await page.textContent('#rule')).includes('<5'), 'the page writes the rule');
    let withheld = 0;
    for (const key of TILES) {
      const f = v.node[key];
      const got = await tileText(page, key);
      check(got === shown(f, 5), `viewer tile ${key}: page ${got}`);
      if (f && typeof f === 'object' && f.withheld) {
        withheld += 1;
        check(got === '<5', `a withheld ${key} shows "<5"`);
      }
    }
    const giftCells = await page.locator('#gifts-table tbody td:nth-child(2)').allTextContents();
    const withheldGifts = (v.gifts ?? []).filter((g) => g.itemsHandedOut.withheld).length;
    check(giftCells.filter((c) => c === '<5').length === withheldGifts,
      `withheld gift counts show "<5" (${withheldGifts})`);
    const recordLabels = await page.locator('#records-table tbody td:nth-child(-n+2)').allTextContents();
    check(recordLabels.length > 0 && recordLabels.every((c) => c && !c.startsWith('SERVICE_RECORD_')),
      `record kinds and statuses show the catalogue's labels (${recordLabels.slice(0, 4).join(', ')})`);
    check(recordLabels.every((c) => /[\u4e00-\u9fff]/.test(c)),
      'the labels are the Chinese ones of GET /v1/labels');
    const recordCells = await page.locator('#records-table tbody td:nth-child(3)').allTextContents();
    const withheldRecords = (v.node.serviceRecords ?? []).filter((r) => r.records.withheld).length;
    check(recordCells.filter((c) => c === '<5').length === withheldRecords,
      `withheld service-record counts show "<5" (${withheldRecords})`);
    check(await tileText(page, 'reviewBacklog') === '<5',
      "the demo's 3 reports awaiting review show as \"<5\" to the viewer");
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(out, 'dashboard-phone.png'), fullPage: false });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    check(overflow <= 0, `usable at a phone's width (no sideways scroll: ${overflow}px)`);
    await page.setViewportSize({ width: 1280, height: 900 });

    // Another district: refused, and the page says so.
    const other = (await rest('GET', '/v1/orgs:lookup?code=dt-yungang', viewerToken)).node.orgId;
    await page.goto(`${base}/dashboard/#org=${other}&from=${vhash.get('from')}&to=${vhash.get('to')}`);
    await page.waitForSelector('#board-error:not([hidden])');
    check((await page.textContent('#board-error')).includes('无权查看'),
      'a node outside the viewer\'s area is refused on the page');
    const refused = await fetch(`${base}/v1/orgs/${other}/overview`, {
      headers: { Authorization: `Bearer ${viewerToken}` },
    });
    const refusedBody = await refused.json();
    check(refused.status === 403 && refusedBody.status === 'PERMISSION_DENIED',
      'the REST face answers 403 with the standard error body');

    // A reversed range: 400 naming the field.
    const bad = await fetch(`${base}/v1/orgs/${vhash.get('org')}/overview?fromDay=2026-12-10&toDay=2026-12-01`, {
      headers: { Authorization: `Bearer ${viewerToken}` },
    });
    check(bad.status === 400 && (await bad.text()).includes('from_day'), 'a reversed range is a 400 naming from_day');

    // The session expires: back to sign-in, then to the node chosen before.
    const chosen = `${base}/dashboard/#org=${vhash.get('org')}&from=${vhash.get('from')}&to=${vhash.get('to')}`;
    await page.goto(chosen);
    await page.waitForSelector('#figures:not([hidden])');
    await page.evaluate(() => sessionStorage.setItem('cp.session',
      JSON.stringify({ access: 'expired', refresh: 'expired' })));
    await page.click('#range button[type=submit]');
    await page.waitForSelector('#sign-in:not([hidden])');
    check((await page.textContent('#sign-in-note')).includes('过期'), 'an expired session returns to sign-in, saying why');
    await signIn(page, OFFICIAL);
    check((await page.textContent('#crumbs li:last-child')) === '清远西街社区',
      'after signing in again the chosen node is back');
  } finally {
    await browser.close();
  }
  if (failures > 0) {
    console.log(`${failures} check(s) failed`);
    process.exit(1);
  }
  console.log('dashboard: every check passed');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
