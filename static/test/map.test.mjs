// Browser tests for the map page, run against a live Sinergi server.
//
//   node --test static/test/
//
// Environment (normally set by scripts/test.sh):
//   SINERGI_URL        base URL of the running server with demo data, e.g. http://127.0.0.1:34567
//   SINERGI_DEMO_JSON  path to {"users":[{"name","role","password","token"}, ...], ...}
//   SINERGI_ARTIFACTS  folder for screenshots (created; default static/test/artifacts)
//   CHROMIUM_PATH      Chromium binary (default /usr/bin/chromium)
//   CI                 when set and SINERGI_URL is missing, fail instead of skipping

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, BASE, findKeys, noPageErrors as assertNoPageErrors, READY_TIMEOUT, useBrowser, withServer } from './harness.mjs';

const TEST_TIMEOUT = 120_000;

/** Keys that must never reach the browser of a company user (privacy smoke check). */
const PRIVATE_KEY = /(^|_)(nik|no_kk|nokk)($|_)|nama_kepala|alamat|head_name|address/i;

withServer('map page browser tests', suite);

function suite() {
  const { users, userByRole, openPage } = useBrowser();

  async function waitState(page, states, timeout = READY_TIMEOUT) {
    const list = [].concat(states);
    try {
      await page.waitForFunction((l) => l.includes(document.body.dataset.state), list, { timeout });
    } catch (err) {
      const st = await page.evaluate(() => document.body.dataset.state).catch(() => '?');
      throw new Error(`page state stayed "${st}", expected one of ${list.join('/')}: ${err.message}`);
    }
    return page.evaluate(() => document.body.dataset.state);
  }

  async function gotoLogin(page) {
    await page.goto(BASE + '/', { waitUntil: 'domcontentloaded' });
    await waitState(page, 'login');
  }

  /** Sign in through the form (current language must be Indonesian). */
  async function signIn(page, user, states = 'ready') {
    await gotoLogin(page);
    await page.getByLabel('Nama pengguna').fill(user.name);
    await page.getByLabel('Kata sandi').fill(user.password);
    await page.getByRole('button', { name: 'Masuk', exact: true }).click();
    return waitState(page, states);
  }

  /** A viewport point strictly inside some village polygon, near the map centre. */
  async function pointInsideVillage(page) {
    const pt = await page.evaluate(() => {
      const mapBox = document.getElementById('map').getBoundingClientRect();
      const cx = mapBox.left + mapBox.width / 2;
      const cy = mapBox.top + mapBox.height / 2;
      const paths = [...document.querySelectorAll('#map path.sinergi-village')]
        .map((p) => ({ p, r: p.getBoundingClientRect() }))
        .filter(({ r }) => r.width > 12 && r.height > 12)
        .sort((a, b) => Math.hypot(a.r.x + a.r.width / 2 - cx, a.r.y + a.r.height / 2 - cy) - Math.hypot(b.r.x + b.r.width / 2 - cx, b.r.y + b.r.height / 2 - cy));
      for (const { p, r } of paths) {
        // Try the bbox centre first, then a grid: polygons can be concave.
        const cands = [[0.5, 0.5]];
        for (let i = 1; i < 8; i++) for (let j = 1; j < 8; j++) cands.push([i / 8, j / 8]);
        for (const [fx, fy] of cands) {
          const x = r.left + r.width * fx;
          const y = r.top + r.height * fy;
          if (x < mapBox.left || x > mapBox.right || y < mapBox.top || y > mapBox.bottom) continue;
          if (document.elementFromPoint(x, y) === p) {
            document.querySelector('[data-test-target]')?.removeAttribute('data-test-target');
            p.setAttribute('data-test-target', '');
            return { x, y };
          }
        }
      }
      return null;
    });
    assert.ok(pt, 'no village polygon found under any probe point');
    return pt;
  }

  async function hoverVillage(page) {
    const { x, y } = await pointInsideVillage(page);
    await page.mouse.move(5, 5);
    await page.mouse.move(x, y);
    // Tooltips of polygons crossed on the way may still be fading out: read the
    // one Leaflet linked to the target polygon (aria-describedby).
    const handle = await page.waitForFunction(() => {
      const id = document.querySelector('path[data-test-target]')?.getAttribute('aria-describedby');
      const tip = id && document.getElementById(id);
      return tip && tip.classList.contains('leaflet-tooltip') && tip.textContent.trim() ? tip.textContent.trim() : null;
    });
    return { x, y, text: await handle.jsonValue() };
  }



  describe('map page', { timeout: TEST_TIMEOUT * 8 }, () => {
    test('(a) wrong password shows the server detail in an alert and no map', { timeout: TEST_TIMEOUT }, async () => {
      const { context, page, pageErrors } = await openPage();
      try {
        const planner = userByRole('planner');
        await gotoLogin(page);
        const loginResp = page.waitForResponse((r) => r.url().endsWith('/api/v1/login'));
        await page.getByLabel('Nama pengguna').fill(planner.name);
        await page.getByLabel('Kata sandi').fill(planner.password + '-wrong');
        await page.getByRole('button', { name: 'Masuk', exact: true }).click();
        const resp = await loginResp;
        assert.equal(resp.status(), 401, 'POST /api/v1/login with a wrong password');
        let detail = '';
        try {
          detail = (await resp.json()).detail || '';
        } catch {
          /* non-JSON body: any visible message will do */
        }
        const alert = page.locator('#login-view [role="alert"]');
        await alert.waitFor({ state: 'visible' });
        if (detail) assert.ok((await alert.innerText()).includes(detail), `alert should show the server detail "${detail}"`);
        assert.equal(await page.evaluate(() => document.body.dataset.state), 'login');
        assert.equal(await page.locator('#map-view').isVisible(), false, 'map must not be shown');
        assert.equal(await page.locator('#map path.sinergi-village').count(), 0);
        await page.screenshot({ path: join(ARTIFACTS, 'login-error.png') });
        assertNoPageErrors(pageErrors);
      } finally {
        await context.close();
      }
    });

    test('(b) planner sees the villages, hover tooltip and details panel', { timeout: TEST_TIMEOUT }, async () => {
      const { context, page, pageErrors } = await openPage();
      try {
        const planner = userByRole('planner');
        await signIn(page, planner);
        const n = Number(await page.evaluate(() => document.body.dataset.villages));
        assert.ok(n >= 150, `expected >= 150 villages on the map, got ${n}`);
        assert.equal(await page.locator('#map path.sinergi-village').count(), n, 'one SVG path per village feature');

        // Header shows who is signed in.
        await assert.doesNotReject(page.locator('#user-name', { hasText: planner.name }).waitFor());
        assert.ok(await page.getByRole('button', { name: 'Keluar' }).isVisible());

        // Hover → tooltip "Desa X — Kec. Y (99.01.…)".
        const { x, y, text } = await hoverVillage(page);
        assert.match(text, /99\.01\./, `tooltip text: ${text}`);
        assert.match(text, /Kec\. /, `tooltip text: ${text}`);

        // Click → side panel with labelled attributes.
        await page.mouse.click(x, y);
        const code = text.match(/\((99\.01\.[\d.]+)\)/)?.[1];
        const details = page.locator('#village-details');
        await details.locator('dt', { hasText: 'Kode desa' }).waitFor();
        if (code) assert.ok((await details.innerText()).includes(code), 'panel shows the clicked village code');
        assert.ok(await details.locator('dt', { hasText: 'Kecamatan' }).count());

        await page.mouse.move(x, y);
        await page.locator('.leaflet-tooltip').first().waitFor({ state: 'visible' });
        await page.screenshot({ path: join(ARTIFACTS, 'planner-map.png') });

        // Keyboard: from the header, Tab reaches the village picker in a few
        // steps (polygons are not Tab stops) and it selects a village too.
        await page.getByRole('button', { name: 'Keluar' }).focus();
        let reached = false;
        for (let i = 0; i < 12 && !reached; i++) {
          await page.keyboard.press('Tab');
          reached = await page.evaluate(() => document.activeElement?.id === 'village-select');
        }
        assert.ok(reached, 'Tab from the sign-out button reaches the village picker within 12 steps');
        const select = page.getByLabel('Cari desa/kelurahan');
        const optValue = await select.locator('option[value]:not([value=""])').nth(3).getAttribute('value');
        await select.focus();
        await select.selectOption(optValue);
        await details.locator('dd', { hasText: optValue }).waitFor();

        // Tablet size still shows the essentials.
        await page.setViewportSize({ width: 1024, height: 768 });
        for (const loc of [page.getByRole('button', { name: 'Keluar' }), page.locator('[data-lang="en"]'), select, page.locator('#map')]) {
          const box = await loc.boundingBox();
          assert.ok(box && box.x >= 0 && box.y >= 0 && box.x + box.width <= 1024 && box.y + box.height <= 768, 'control visible at 1024×768');
        }
        await page.screenshot({ path: join(ARTIFACTS, 'planner-map-tablet.png') });
        assertNoPageErrors(pageErrors);
      } finally {
        await context.close();
      }
    });

    test('(c) language switch changes visible labels and is remembered', { timeout: TEST_TIMEOUT }, async () => {
      const { context, page, pageErrors } = await openPage();
      try {
        await gotoLogin(page);
        await page.getByRole('button', { name: 'EN', exact: true }).click();
        await page.getByLabel('Username').waitFor();
        await page.getByLabel('Password').waitFor();
        assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
        await page.getByLabel('Username').fill(userByRole('planner').name);
        await page.getByLabel('Password').fill(userByRole('planner').password);
        await page.getByRole('button', { name: 'Sign in', exact: true }).click();
        await waitState(page, 'ready');
        const signOut = page.locator('#logout-btn');
        assert.equal((await signOut.innerText()).trim(), 'Sign out');
        assert.equal((await page.locator('#panel-title').innerText()).trim(), 'Village details');
        assert.equal(await page.locator('[data-lang="en"]').getAttribute('aria-pressed'), 'true');
        await page.screenshot({ path: join(ARTIFACTS, 'planner-map-en.png') });

        // Remembered across reloads (localStorage).
        await page.reload({ waitUntil: 'domcontentloaded' });
        await waitState(page, 'ready');
        assert.equal((await signOut.innerText()).trim(), 'Sign out');

        await page.getByRole('button', { name: 'ID', exact: true }).click();
        assert.equal((await signOut.innerText()).trim(), 'Keluar');
        assert.equal((await page.locator('#panel-title').innerText()).trim(), 'Informasi Desa');
        assert.equal(await page.evaluate(() => document.documentElement.lang), 'id');
        assertNoPageErrors(pageErrors);
      } finally {
        await context.close();
      }
    });

    test('(d) reaches "ready" when the basemap host is unreachable', { timeout: TEST_TIMEOUT }, async () => {
      const { context, page, pageErrors } = await openPage();
      try {
        const origin = new URL(BASE).origin;
        const blocked = [];
        await page.route('**/*', async (route) => {
          const url = route.request().url();
          if (new URL(url).origin !== origin) {
            blocked.push(url);
            return route.abort('internetdisconnected');
          }
          // Make sure a basemap is configured, so its failure is exercised.
          if (new URL(url).pathname === '/api/v1/boot') {
            const resp = await route.fetch();
            let boot = {};
            try {
              boot = await resp.json();
            } catch {
              /* keep {} */
            }
            boot.config = boot.config || {};
            if (!boot.config.basemap_url) boot.config.basemap_url = 'https://basemap.invalid/{z}/{x}/{y}.png';
            return route.fulfill({ response: resp, json: boot });
          }
          return route.continue();
        });
        await signIn(page, userByRole('planner'));
        assert.ok(Number(await page.evaluate(() => document.body.dataset.villages)) >= 150);
        await page.locator('#basemap-note').waitFor({ state: 'visible', timeout: 10_000 });
        assert.ok(blocked.length > 0, 'expected basemap tile requests to be attempted (and blocked)');
        await hoverVillage(page);
        assertNoPageErrors(pageErrors);
      } finally {
        await context.close();
      }
    });

    test('(e) sign out returns to the sign-in form', { timeout: TEST_TIMEOUT }, async () => {
      const { context, page, pageErrors } = await openPage();
      try {
        await signIn(page, userByRole('planner'));
        // Start an animated zoom (pick a village) and sign out while it runs:
        // tearing the map down mid-animation must not throw.
        const select = page.getByLabel('Cari desa/kelurahan');
        await select.selectOption(await select.locator('option[value]:not([value=""])').nth(10).getAttribute('value'));
        const logout = page.waitForResponse((r) => r.url().endsWith('/api/v1/logout'));
        await page.getByRole('button', { name: 'Keluar' }).click();
        const resp = await logout;
        assert.ok(resp.ok(), `POST /api/v1/logout → ${resp.status()}`);
        await waitState(page, 'login');
        await page.getByLabel('Nama pengguna').waitFor({ state: 'visible' });
        assert.equal(await page.locator('#user-box').isVisible(), false);
        assert.equal(await page.locator('#map-view').isVisible(), false);
        assert.equal(await page.evaluate(() => document.body.dataset.villages), undefined);
        await page.waitForTimeout(600); // let any pending Leaflet animation timers fire
        assertNoPageErrors(pageErrors);
        // The session is really gone on the server.
        await page.reload({ waitUntil: 'domcontentloaded' });
        await waitState(page, 'login');
        assertNoPageErrors(pageErrors);
      } finally {
        await context.close();
      }
    });

    test('(f) no personal-data keys reach the company user\'s browser', { timeout: TEST_TIMEOUT }, async () => {
      const { context, page, pageErrors } = await openPage();
      try {
        const bodies = [];
        page.on('response', (resp) => {
          bodies.push(
            (async () => {
              const url = resp.url();
              const ct = resp.headers()['content-type'] || '';
              if (!url.startsWith(BASE) || (!/json/i.test(ct) && !new URL(url).pathname.startsWith('/api/'))) return null;
              let text;
              try {
                text = await resp.text();
              } catch {
                return null; // redirects / aborted
              }
              try {
                return { url, json: JSON.parse(text) };
              } catch {
                return null;
              }
            })(),
          );
        });
        const state = await signIn(page, userByRole('company'), ['ready', 'error']);
        if (state === 'error') {
          // A role without access to villages must see why.
          const alert = page.locator('[role="alert"]').first();
          await alert.waitFor({ state: 'visible' });
          assert.ok((await alert.innerText()).trim().length > 0);
        }
        await page.screenshot({ path: join(ARTIFACTS, 'company-map.png') });
        const seen = (await Promise.all(bodies)).filter(Boolean);
        assert.ok(seen.some((b) => b.url.includes('/api/v1/login')), 'login response was inspected');
        const leaks = [];
        for (const { url, json } of seen) findKeys(json, PRIVATE_KEY, url, '$', leaks);
        assert.deepEqual(leaks.slice(0, 20), [], `personal-data keys in responses seen by the company user (${leaks.length} found)`);
        assertNoPageErrors(pageErrors);
      } finally {
        await context.close();
      }
    });

    test('(h) error states show the problem+json detail (simulated responses)', { timeout: TEST_TIMEOUT }, async () => {
      const { context, page, pageErrors } = await openPage();
      const problem = (status, detail) => ({
        status,
        contentType: 'application/problem+json',
        body: JSON.stringify({ type: 'about:blank', title: 'Simulated', status, detail }),
      });
      try {
        // 1. The session check (/boot) fails with 500 → error state with the detail.
        await page.route('**/api/v1/boot', (route) => route.fulfill(problem(500, 'Basis data tidak tersedia (uji).')));
        await page.goto(BASE + '/', { waitUntil: 'domcontentloaded' });
        await waitState(page, 'error');
        await page.locator('[role="alert"]', { hasText: 'Basis data tidak tersedia (uji).' }).waitFor({ state: 'visible' });
        await page.unroute('**/api/v1/boot');

        // 2. Villages forbidden (403) → alert with the detail; retry recovers.
        await page.route('**/api/v1/villages*', (route) => route.fulfill(problem(403, 'Peran ini tidak boleh melihat desa (uji).')));
        await signIn(page, userByRole('planner'), 'error');
        const alert = page.locator('#map-alert [role="alert"]');
        await alert.waitFor({ state: 'visible' });
        assert.ok((await alert.innerText()).includes('Peran ini tidak boleh melihat desa (uji).'));
        assert.equal(await page.evaluate(() => document.body.dataset.villages), undefined);
        await page.screenshot({ path: join(ARTIFACTS, 'villages-403.png') });
        await page.unroute('**/api/v1/villages*');
        await page.getByRole('button', { name: 'Coba lagi' }).click();
        await waitState(page, 'ready');
        assert.equal(await alert.count(), 0, 'alert cleared after a successful retry');

        // 3. Session gone (401) while loading villages → back to the sign-in form with a notice.
        await page.route('**/api/v1/villages*', (route) => route.fulfill(problem(401, 'Sesi berakhir (uji).')));
        await page.reload({ waitUntil: 'domcontentloaded' });
        await waitState(page, 'login');
        await page.locator('#login-view [role="status"]').waitFor({ state: 'visible' });
        assertNoPageErrors(pageErrors);
      } finally {
        await context.close();
      }
    });

    test('(g) every demo role gets the map or a visible reason', { timeout: TEST_TIMEOUT * 2 }, async () => {
      // One browser context per role, in parallel (each signs in on its own).
      await Promise.all(
        users().map(async (user) => {
          const { context, page, pageErrors } = await openPage();
          try {
            const state = await signIn(page, user, ['ready', 'error']);
            const roleText = (await page.locator('#user-role').innerText()).trim();
            assert.ok(roleText.length > 0, `role label shown for ${user.role}`);
            if (state === 'ready') {
              assert.ok(Number(await page.evaluate(() => document.body.dataset.villages)) > 0, `${user.role}: villages drawn`);
            } else {
              const alert = page.locator('#map-alert [role="alert"]');
              await alert.waitFor({ state: 'visible' });
              assert.ok((await alert.innerText()).trim().length > 0, `${user.role}: error explained`);
            }
            await page.screenshot({ path: join(ARTIFACTS, `role-${user.role}.png`) });
            assertNoPageErrors(pageErrors);
          } finally {
            await context.close();
          }
        }),
      );
    });
  });
}

