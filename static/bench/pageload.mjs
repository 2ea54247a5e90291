// Page-load benchmark (issue 8): a signed-in planner opens the map on a
// throttled connection and CPU; we time navigation → every village polygon of
// the initial view drawn (body[data-state=ready] and as many
// path.sinergi-village elements as body[data-villages]) and sum the bytes
// transferred (encodedDataLength of Network.loadingFinished) up to that point.
// Each load uses a fresh browser context (cold cache). Prints medians of N loads
// and their ratio to the target (3 s, 600 KB), and what gzip/brotli would give.
//
// Throttling (Chrome DevTools "Fast 3G" preset, as DevTools defines it):
//   latency 562.5 ms (150 ms RTT × 3.75), download 180 000 B/s (1.6 Mbit/s × 0.9),
//   upload 84 375 B/s (750 kbit/s × 0.9); CPU slowed 4× (Emulation.setCPUThrottlingRate).
//
// Usage: SINERGI_URL=http://127.0.0.1:PORT SINERGI_DEMO_JSON=demo.json node static/bench/pageload.mjs [--runs 10] [--json] [--trace] [--signed-out]
// Environment: CHROMIUM_PATH (default /usr/bin/chromium), SINERGI_BENCH_ROLE (default planner).
// --signed-out: a first visit without a session instead, timed until the sign-in
// form is shown (body[data-state=login] and #login-view visible).
// --trace: print every counted load's requests (start, response, end) too.

import { readFileSync } from 'node:fs';
import { brotliCompressSync, gzipSync, constants as zc } from 'node:zlib';
import { chromium } from 'playwright-core';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const RUNS = Number(opt('--runs', '10'));
const JSON_OUT = args.includes('--json');
// --trace: print each counted load's request timeline (start → first byte → end, ms
// after the document request) to see which round trips sit on the critical path.
const TRACE = args.includes('--trace');
const SIGNED_OUT = args.includes('--signed-out');
const BASE = (process.env.SINERGI_URL || '').replace(/\/+$/, '');
const ROLE = process.env.SINERGI_BENCH_ROLE || 'planner';
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const TARGET_MS = 3000;
const TARGET_BYTES = 600 * 1000;
const FAST_3G = { offline: false, latency: 562.5, downloadThroughput: (1.6 * 1000 * 1000 / 8) * 0.9, uploadThroughput: (750 * 1000 / 8) * 0.9 };
const CPU_SLOWDOWN = 4;

if (!BASE || !process.env.SINERGI_DEMO_JSON) {
  console.error('pageload: set SINERGI_URL and SINERGI_DEMO_JSON (scripts/bench_page.sh does)');
  process.exit(2);
}
const user = JSON.parse(readFileSync(process.env.SINERGI_DEMO_JSON, 'utf8')).users.find((u) => u.role === ROLE);
if (!user) {
  console.error(`pageload: no demo user with role ${ROLE}`);
  process.exit(2);
}

/** Sign in once; every load reuses the session cookie (the page then skips the sign-in form). */
async function sessionCookie() {
  const res = await fetch(`${BASE}/api/v1/login`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: BASE }, body: JSON.stringify({ username: user.name, password: user.password }) });
  if (!res.ok) throw new Error(`login as ${user.name}: HTTP ${res.status} ${await res.text()}`);
  const set = res.headers.getSetCookie().find((c) => c.startsWith('sinergi_session='));
  if (!set) throw new Error('login: no sinergi_session cookie');
  return set.split(';')[0].slice('sinergi_session='.length);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function oneLoad(browser, cookie) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'id-ID' });
  if (!SIGNED_OUT) await context.addCookies([{ name: 'sinergi_session', value: cookie, url: BASE }]);
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Network.emulateNetworkConditions', FAST_3G);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
  const urls = new Map(); // requestId -> url
  let bytes = 0;
  let counting = true;
  const perUrl = new Map();
  const encodings = new Map(); // url -> Content-Encoding the browser received
  const timeline = new Map(); // requestId -> {url, start, first, end} (CDP monotonic seconds)
  let t0 = null;
  cdp.on('Network.requestWillBeSent', (e) => {
    urls.set(e.requestId, e.request.url);
    if (t0 == null) t0 = e.timestamp;
    timeline.set(e.requestId, { url: e.request.url, start: e.timestamp });
  });
  cdp.on('Network.responseReceived', (e) => {
    const r = timeline.get(e.requestId);
    if (r) r.first = e.timestamp;
  });
  cdp.on('Network.responseReceived', (e) => {
    const hd = Object.fromEntries(Object.entries(e.response.headers || {}).map(([k, v]) => [k.toLowerCase(), v]));
    encodings.set(e.response.url, hd['content-encoding'] || 'identity');
  });
  cdp.on('Network.loadingFinished', (e) => {
    if (!counting) return;
    bytes += e.encodedDataLength;
    const r = timeline.get(e.requestId);
    if (r) Object.assign(r, { end: e.timestamp, bytes: e.encodedDataLength });
    const u = urls.get(e.requestId);
    if (u) perUrl.set(u, (perUrl.get(u) || 0) + e.encodedDataLength);
  });
  await page.goto(BASE + '/', { waitUntil: 'commit', timeout: 120_000 });
  // performance.now() is measured from the navigation start (timeOrigin).
  const handle = await page.waitForFunction(
    (signedOut) => {
      const b = document.body;
      if (signedOut) {
        const form = document.getElementById('login-view');
        return b && b.dataset.state === 'login' && form && !form.hidden ? { ms: performance.now(), villages: 0 } : false;
      }
      if (!b || b.dataset.state !== 'ready') return false;
      const want = Number(b.dataset.villages || 0);
      return want > 0 && document.querySelectorAll('#map path.sinergi-village').length >= want ? { ms: performance.now(), villages: want } : false;
    },
    SIGNED_OUT,
    { polling: 'raf', timeout: 180_000 },
  );
  const r = await handle.jsonValue();
  counting = false;
  if (TRACE) {
    const ms = (x) => (x == null || t0 == null ? '     -' : String(Math.round((x - t0) * 1000)).padStart(6));
    console.error(`  drawn at ${Math.round(r.ms)} ms (performance.now); requests (start, response, end ms after the document request; bytes):`);
    for (const x of timeline.values()) {
      console.error(`   ${ms(x.start)} ${ms(x.first)} ${ms(x.end)} ${String(x.bytes ?? '-').padStart(7)}  ${x.url.replace(BASE, '')}`);
    }
  }
  await context.close();
  return { ms: r.ms, bytes, villages: r.villages, perUrl, encodings };
}

/** What the same responses would weigh compressed (the server sends JSON uncompressed today). */
async function compressed(perUrl, encodings, cookie) {
  const out = [];
  for (const [url, wire] of perUrl) {
    if (!url.startsWith(BASE)) continue;
    const res = await fetch(url, { headers: { Cookie: `sinergi_session=${cookie}`, 'Accept-Encoding': 'identity' } });
    const body = Buffer.from(await res.arrayBuffer());
    out.push({
      path: new URL(url).pathname + new URL(url).search,
      wire,
      raw: body.length,
      gzip: gzipSync(body, { level: 6 }).length,
      br: brotliCompressSync(body, { params: { [zc.BROTLI_PARAM_QUALITY]: 5 } }).length,
      encoding: encodings.get(url) || '?', // as the browser received it
    });
  }
  return out;
}

async function main() {
  const cookie = await sessionCookie();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  const loads = [];
  try {
    await oneLoad(browser, cookie); // warm-up (server caches, Chromium start-up); not counted
    for (let i = 0; i < RUNS; i++) {
      const l = await oneLoad(browser, cookie);
      loads.push(l);
      if (!JSON_OUT) console.error(`load ${i + 1}/${RUNS}: ${(l.ms / 1000).toFixed(2)} s, ${(l.bytes / 1000).toFixed(1)} KB, ${l.villages} villages`);
    }
  } finally {
    await browser.close();
  }
  const ms = median(loads.map((l) => l.ms));
  const bytes = median(loads.map((l) => l.bytes));
  const last = loads[loads.length - 1];
  const files = await compressed(last.perUrl, last.encodings, cookie);
  const sum = (k) => files.reduce((a, f) => a + f[k], 0);
  const result = {
    runs: RUNS,
    signed_out: SIGNED_OUT,
    throttling: { ...FAST_3G, cpu_slowdown: CPU_SLOWDOWN, preset: 'Chrome DevTools Fast 3G' },
    villages: loads[0].villages,
    median_ms: Math.round(ms),
    median_bytes: bytes,
    ratio_time: +(ms / TARGET_MS).toFixed(3),
    ratio_bytes: +(bytes / TARGET_BYTES).toFixed(3),
    files,
    same_origin: { wire: sum('wire'), raw: sum('raw'), gzip: sum('gzip'), br: sum('br') },
  };
  if (JSON_OUT) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  console.log(`page load${SIGNED_OUT ? ' (signed out: until the sign-in form shows)' : ''}, ${RUNS} cold loads, Fast 3G (562.5 ms, 180 KB/s down, 84 KB/s up) + CPU ${CPU_SLOWDOWN}×, ${result.villages} villages:`);
  console.log(`  time to ${SIGNED_OUT ? 'the sign-in form' : 'all village polygons drawn'}: median ${(ms / 1000).toFixed(2)} s  → ${result.ratio_time}× the 3 s target`);
  console.log(`  bytes transferred until then:      median ${(bytes / 1000).toFixed(1)} KB → ${result.ratio_bytes}× the 600 KB target`);
  console.log('  per file (wire / raw / gzip -6 / brotli -5, bytes):');
  for (const f of files) console.log(`    ${f.path.padEnd(40)} ${String(f.wire).padStart(8)} ${String(f.raw).padStart(8)} ${String(f.gzip).padStart(8)} ${String(f.br).padStart(8)}  (${f.encoding})`);
  const s = result.same_origin;
  console.log(`  same-origin total: wire ${(s.wire / 1000).toFixed(1)} KB, raw ${(s.raw / 1000).toFixed(1)} KB, gzip ${(s.gzip / 1000).toFixed(1)} KB, brotli ${(s.br / 1000).toFixed(1)} KB`);
}

main().catch((err) => {
  console.error(`pageload: ${err.stack || err}`);
  process.exit(1);
});
