// Browser scenarios of issue 8's later features, against the shared demo server:
//   planner  draws a rectangle: the villages it overlaps join the priority list in
//            rank order (server-side selection) and the list is saved
//   planner  edits another company's operating area (restored afterwards)
//   village  the trend across periods is an accessible SVG chart with a table
//   legend   at 1024×768 it starts compact and opens from the keyboard
//   gis      imports a register as a job: progress, then the result with the
//            first reject reasons and the reject report CSV; a strict import fails
//            with its reason (no data is loaded by this file: every row is rejected)
//
// Environment: as map.test.mjs (SINERGI_URL, SINERGI_DEMO_JSON, SINERGI_ARTIFACTS,
// CHROMIUM_PATH, CI).

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARTIFACTS, noPageErrors, useBrowser, withServer } from './harness.mjs';

withServer('issue 8 features', suite);

function suite() {
  const { userByRole, apiAs, openPage, signIn } = useBrowser();
  const tmp = mkdtempSync(join(tmpdir(), 'sinergi-feat-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  /** The centre of the map element and a box around it clear of the legend. */
  async function mapCentre(page) {
    return page.evaluate(() => {
      const m = document.getElementById('map').getBoundingClientRect();
      return { x: m.left + m.width / 2, y: m.top + m.height / 2, w: m.width, h: m.height };
    });
  }

  describe('issue 8 features', { timeout: 600_000 }, () => {
    test('planner draws a rectangle: overlapped villages join the list in rank order and are saved', { timeout: 120_000 }, async () => {
      const { context, page, pageErrors } = await openPage();
      try {
        await signIn(page, userByRole('planner'));
        await page.getByRole('tab', { name: 'Prioritas' }).click();
        assert.equal(await page.locator('#prio-items li[data-code]').count(), 0, 'the list starts empty');
        const c = await mapCentre(page);

        await page.getByRole('button', { name: 'Gambar persegi' }).click();
        await page.waitForFunction(() => document.getElementById('map').classList.contains('is-drawing'));
        assert.match(await page.locator('#area-note').innerText(), /sudut/, 'the hint says how to draw');
        const sel = page.waitForResponse((r) => r.url().endsWith('/api/v1/villages/select') && r.request().method() === 'POST');
        await page.mouse.click(c.x - 70, c.y - 45);
        await page.mouse.move(c.x + 70, c.y + 45, { steps: 6 });
        await page.mouse.click(c.x + 70, c.y + 45);
        const resp = await sel;
        assert.equal(resp.status(), 200, 'POST /villages/select');
        const body = await resp.json();
        const drawn = JSON.parse(resp.request().postData());
        assert.equal(drawn.type, 'Polygon', 'the rectangle is sent as a GeoJSON Polygon');
        assert.ok(body.villages.length >= 1, `villages in the drawn area: ${body.villages.length}`);
        const ranks = body.villages.map((v) => v.rank).filter((r) => r != null);
        assert.deepEqual(ranks, [...ranks].sort((a, b) => a - b), 'the server answers in rank order');

        await page.waitForFunction((n) => document.querySelectorAll('#prio-items li[data-code]').length === n, body.villages.length);
        const listed = await page.locator('#prio-items li[data-code]').evaluateAll((ls) => ls.map((l) => l.dataset.code));
        assert.deepEqual(listed, body.villages.map((v) => v.code), 'the list holds the selection in rank order');
        assert.match(await page.locator('#area-note').innerText(), new RegExp(`^${body.villages.length} desa`));
        // The same area through the API with a token gives the same answer.
        const again = await apiAs('planner', '/api/v1/villages/select', { method: 'POST', json: drawn });
        assert.deepEqual(again.body.villages.map((v) => v.code), listed);
        // Listed villages are outlined on the map.
        assert.equal(await page.locator(`#map path.sinergi-village[data-code="${listed[0]}"]`).getAttribute('stroke'), '#6d28d9');
        await page.screenshot({ path: join(ARTIFACTS, 'planner-area-select.png') });

        // Escape cancels a polygon in progress without a request.
        await page.getByRole('button', { name: 'Gambar poligon' }).click();
        await page.keyboard.press('Escape');
        await page.waitForFunction(() => !document.getElementById('map').classList.contains('is-drawing'));
        assert.equal(await page.locator('#prio-items li[data-code]').count(), listed.length, 'cancelled drawing adds nothing');

        const name = `Area uji ${Date.now()}`;
        await page.getByLabel('Nama daftar').fill(name);
        const save = page.waitForResponse((r) => r.url().endsWith('/api/v1/priorities') && r.request().method() === 'POST');
        await page.getByRole('button', { name: 'Simpan daftar' }).click();
        const saved = await save;
        assert.ok(saved.status() >= 200 && saved.status() < 300, `saved: ${saved.status()}`);
        await page.locator('#prio-saved:not([hidden])').waitFor();
        const lists = await apiAs('planner', '/api/v1/priorities');
        const l = (lists.body.lists || []).find((x) => x.name === name);
        assert.ok(l, 'the list is stored');
        assert.deepEqual(l.items.map((x) => x.code), listed, 'stored in the same order');
        noPageErrors(pageErrors);
      } finally {
        await context.close();
      }
    });

    test('planner edits another company’s operating area', { timeout: 120_000 }, async () => {
      const mine = (await apiAs('company', '/api/v1/me')).body.user.company_id;
      const all = (await apiAs('planner', '/api/v1/companies')).body.companies;
      const target = all.find((x) => x.id !== mine && x.area) || assert.fail('no other company with an area');
      const before = (await apiAs('planner', `/api/v1/companies/${target.id}`)).body;
      const { context, page, pageErrors } = await openPage();
      try {
        await signIn(page, userByRole('planner'));
        await page.getByRole('tab', { name: 'Perusahaan' }).click();
        await page.getByRole('combobox', { name: 'Perusahaan' }).selectOption(String(target.id));
        await page.getByRole('button', { name: 'Ubah wilayah operasi' }).click();
        await page.locator('#ca-parts').waitFor();
        const n = before.area.coordinates.length;
        assert.match(await page.locator('#ca-parts').innerText(), new RegExp(`^${n} `));
        await page.waitForTimeout(800); // the fly-to-area animation
        // A spot on a village, clear of the edited area, its vertices and the legend.
        const c = await page.evaluate(() => {
          const m = document.getElementById('map').getBoundingClientRect();
          const lg = document.querySelector('aside.legend').getBoundingClientRect();
          for (let fy = 0.2; fy < 0.85; fy += 0.05) {
            for (let fx = 0.15; fx < 0.85; fx += 0.05) {
              const x = m.left + m.width * fx;
              const y = m.top + m.height * fy;
              if (x > lg.left - 30 && x < lg.right + 30 && y > lg.top - 30 && y < lg.bottom + 30) continue;
              const ok = [[-20, -20], [20, -20], [20, 20], [-20, 20], [0, 0]].every(([dx, dy]) => document.elementFromPoint(x + dx, y + dy)?.matches('path.sinergi-village'));
              if (ok) return { x: x + 40, y };
            }
          }
          return null;
        });
        assert.ok(c, 'a free spot on the map to draw on');
        await page.locator('#ca-draw').click();
        const d = 14;
        const pts = [[-d, -d], [d, -d], [d, d], [-d, d]].map(([dx, dy]) => [c.x + dx - 40, c.y + dy]);
        for (const [x, y] of pts) {
          await page.mouse.click(x, y);
          await page.waitForTimeout(120);
        }
        await page.mouse.click(pts[0][0], pts[0][1]);
        await page.waitForFunction((k) => document.getElementById('ca-parts')?.textContent.startsWith(`${k} `), n + 1);
        await page.screenshot({ path: join(ARTIFACTS, 'planner-company-area.png') });
        const put = page.waitForResponse((r) => r.url().endsWith(`/api/v1/companies/${target.id}`) && r.request().method() === 'PUT');
        await page.locator('#ca-save').click();
        assert.equal((await put).status(), 200, 'PUT company as planner');
        await page.locator('#ca-saved:not([hidden])').waitFor();
        const after = (await apiAs('planner', `/api/v1/companies/${target.id}`)).body;
        assert.equal(after.area.coordinates.length, n + 1, 'one more polygon saved');
        noPageErrors(pageErrors);
      } finally {
        await context.close();
        const restore = await apiAs('planner', `/api/v1/companies/${target.id}`, {
          method: 'PUT',
          json: { key: before.key, name: before.name, sectors: before.sectors, budget_per_year: before.budget_per_year ?? 0, budget_by_sector: before.budget_by_sector ?? null, reach_km: before.reach_km, area: before.area, sites: before.sites ?? null },
        });
        assert.equal(restore.status, 200, `restore the area → ${restore.status}`);
      }
    });

    test('the village trend is an accessible SVG chart with the values in a table', { timeout: 90_000 }, async () => {
      const { context, page, pageErrors } = await openPage();
      try {
        await signIn(page, userByRole('planner'));
        const row = page.locator('#rank-table tbody tr[data-code]').first();
        await row.waitFor();
        const code = await row.getAttribute('data-code');
        const detail = await apiAs('planner', `/api/v1/villages/${code}`);
        assert.equal(detail.status, 200);
        const trend = detail.body.trend || [];
        assert.ok(trend.length >= 1, 'the demo has at least one scored period');
        await page.getByLabel('Cari nama atau kode desa').fill(code);
        await page.getByLabel('Cari nama atau kode desa').press('Enter');
        await page.getByRole('tab', { name: 'Desa' }).click();
        const svg = page.locator('#trend svg[role="img"]');
        await svg.waitFor();
        const a11y = await svg.evaluate((s) => ({
          title: document.getElementById(s.getAttribute('aria-labelledby'))?.textContent,
          desc: document.getElementById(s.getAttribute('aria-describedby'))?.textContent,
          points: s.querySelectorAll('circle').length,
        }));
        assert.match(a11y.title, /Tren M0/);
        assert.ok(a11y.desc && a11y.desc.includes(trend[trend.length - 1].period), `description names the periods: ${a11y.desc}`);
        assert.equal(a11y.points, trend.filter((x) => typeof x.m0_eb === 'number').length, 'one point per scored period');
        await page.locator('#trend summary').click();
        const cells = await page.locator('#trend table tbody tr').evaluateAll((rs) => rs.map((r) => r.querySelector('th').textContent));
        assert.deepEqual(cells, trend.map((x) => x.period), 'the table lists every period');
        assert.equal(await page.locator('#trend ul').count(), 0, 'no longer a plain list');
        await page.locator('#trend').screenshot({ path: join(ARTIFACTS, 'village-trend.png') });

        // Several periods (the demo has one): the page draws a line and says which way it went.
        await page.route(/\/api\/v1\/villages\/[0-9.]+$/, async (route) => {
          const r = await route.fetch();
          const j = await r.json();
          const last = j.trend.at(-1);
          j.trend = [
            { ...last, period: '2024', m0_eb: 0.05, rank: 90 },
            { ...last, period: '2025-S1', m0_eb: 0.09, rank: 40 },
            ...j.trend,
          ];
          await route.fulfill({ response: r, json: j });
        });
        const other = await page.locator('#rank-table tbody tr[data-code]').nth(1).getAttribute('data-code');
        await page.getByLabel('Cari nama atau kode desa').fill(other);
        await page.getByLabel('Cari nama atau kode desa').press('Enter');
        await page.getByRole('tab', { name: 'Desa' }).click();
        await page.locator('#trend svg path.trend-line').waitFor();
        const multi = await page.locator('#trend svg').evaluate((s) => ({
          desc: s.querySelector('desc').textContent,
          points: s.querySelectorAll('circle').length,
          ranks: [...s.querySelectorAll('.trend-rank')].map((x) => x.textContent),
        }));
        assert.equal(multi.points, 3);
        assert.deepEqual(multi.ranks.slice(0, 2), ['#90', '#40']);
        assert.match(multi.desc, /^M0 naik dari 0,050 \(2024\)/);
        await page.locator('#trend').screenshot({ path: join(ARTIFACTS, 'village-trend-periods.png') });
        await page.unroute(/\/api\/v1\/villages\/[0-9.]+$/);
        noPageErrors(pageErrors);
      } finally {
        await context.close();
      }
    });

    test('at 1024×768 the legend starts compact and opens from the keyboard', { timeout: 90_000 }, async () => {
      const { context, page, pageErrors } = await openPage({ width: 1024, height: 768 });
      try {
        await signIn(page, userByRole('planner'));
        const legend = page.locator('aside.legend');
        const toggle = page.locator('#legend-toggle');
        assert.equal(await toggle.getAttribute('aria-expanded'), 'false', 'compact at 1024×768');
        assert.ok(!(await page.locator('#measure-select').isVisible()), 'the measure control folds away');
        assert.ok(await page.locator('#choropleth-legend').isVisible(), 'the colour classes stay');
        const small = await legend.boundingBox();
        const map = await page.locator('#map').boundingBox();
        assert.ok(small.height < map.height * 0.45, `compact legend ${Math.round(small.height)} px of a ${Math.round(map.height)} px map`);
        assert.ok(small.width <= 230, `compact legend width ${small.width}`);
        await page.screenshot({ path: join(ARTIFACTS, 'legend-1024-compact.png') });

        // Keyboard: the toggle is a labelled button in the tab order.
        assert.match(await toggle.getAttribute('aria-label'), /Buka legenda/);
        await toggle.focus();
        await page.keyboard.press('Enter');
        assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
        assert.ok(await page.getByLabel('Ukuran').isVisible(), 'measure control shown and labelled');
        assert.ok(await page.getByLabel('Batas kecamatan').isVisible(), 'layer switches shown and labelled');
        await page.screenshot({ path: join(ARTIFACTS, 'legend-1024-open.png') });
        await page.keyboard.press('Space');
        assert.equal(await toggle.getAttribute('aria-expanded'), 'false', 'Space folds it again');
        noPageErrors(pageErrors);
      } finally {
        await context.close();
      }
    });

    test('GIS imports a register as a job: progress, then rejects with reasons and the CSV report', { timeout: 120_000 }, async () => {
      const code = (await apiAs('gis', '/api/v1/villages?format=json')).body.villages?.[0]?.code || '99.01.01.2001';
      // Every row is rejected (more stunted children than children), so nothing loads.
      const head = 'id_keluarga,no_kk,nik,nama_kepala,alamat,kode_desa,longitude,latitude,jumlah_anggota,balita,balita_stunting,miskin_ekstrem,desil,penganggur\n';
      const rows = Array.from({ length: 3000 }, (_, i) => `UJI${i},,,Nama Rahasia ${i},Alamat ${i},${code},,,3,0,1,0,,0`).join('\n');
      const file = join(tmp, 'register-uji.csv');
      writeFileSync(file, head + rows + '\n');

      const { context, page, pageErrors } = await openPage();
      try {
        await signIn(page, userByRole('gis'));
        await page.getByRole('tab', { name: 'Impor rumah tangga' }).click();
        // Record the job states the page goes through.
        await page.evaluate(() => {
          window.__jobStates = [];
          new MutationObserver(() => {
            const s = document.body.dataset.importJob;
            if (s && window.__jobStates.at(-1) !== s) window.__jobStates.push(s);
            if (!document.getElementById('hi-progress')?.hidden && document.getElementById('hi-bar')) window.__sawBar = true;
          }).observe(document.body, { attributes: true, subtree: true, childList: true });
        });
        await page.getByLabel('Berkas register (CSV atau GeoJSON titik)').setInputFiles(file);
        await page.getByLabel('Register', { exact: true }).selectOption('survey');
        await page.getByLabel(/^Periode/).fill('2019');
        // Hold the first progress poll until the running state is on screen.
        let release;
        const held = new Promise((r) => (release = r));
        await page.route(/\/api\/v1\/jobs\/[0-9a-f]+$/, async (route) => {
          await held;
          await route.continue();
        });
        const started = page.waitForResponse((r) => r.url().includes('/api/v1/households/import') && r.request().method() === 'POST');
        await page.getByRole('button', { name: 'Mulai impor' }).click();
        const st = await started;
        assert.equal(st.status(), 202, 'the upload answers 202 with a job');
        const job = await st.json();
        assert.match(job.id, /^[0-9a-f]{32}$/);
        await page.locator('#hi-progress:not([hidden]) #hi-bar').waitFor();
        assert.ok(await page.getByRole('button', { name: 'Batalkan impor' }).isVisible(), 'cancel offered while running');
        assert.match(await page.locator('#hi-counts').innerText(), /baris\/detik/);
        await page.locator('#tab-hhimport').screenshot({ path: join(ARTIFACTS, 'gis-household-import-progress.png') });
        release();
        await page.locator('#hi-done').waitFor({ timeout: 60_000 });
        const states = await page.evaluate(() => window.__jobStates);
        assert.deepEqual(states, ['running', 'done'], 'running, then done');
        assert.ok(await page.evaluate(() => window.__sawBar), 'a progress bar was shown while running');
        assert.match(await page.locator('#hi-done').innerText(), /0 baru.*3\.000 baris ditolak/);
        const first = await page.locator('#hi-rejects li').allInnerTexts();
        assert.equal(first.length, 20, 'the first 20 reasons are listed');
        assert.match(first[0], /baris 2 \(UJI0\) — .*stunt/i);
        assert.ok(!first.join(' ').includes('Rahasia'), 'no names in the report');
        const link = page.locator('#hi-rejects-csv');
        assert.match(await link.innerText(), /3\.000 baris/);
        const csv = await page.evaluate(async (href) => (await fetch(href)).text(), await link.getAttribute('href'));
        assert.equal(csv.trim().split('\n').length, 3001, 'the CSV has every reject');
        assert.ok(csv.startsWith('baris_row,id,alasan_reason\n2,UJI0,'), csv.slice(0, 80));
        assert.ok(!csv.includes('Rahasia'), 'no names in the CSV');
        await page.screenshot({ path: join(ARTIFACTS, 'gis-household-import.png') });

        // A strict import of the same file fails with the server's reason.
        await page.getByRole('checkbox', { name: /Ketat/ }).check();
        await page.getByRole('button', { name: 'Mulai impor' }).click();
        await page.locator('#hi-failed').waitFor({ timeout: 60_000 });
        assert.match(await page.locator('#hi-failed').innerText(), /422.*tidak ada yang dimuat/);
        await page.screenshot({ path: join(ARTIFACTS, 'gis-household-import-strict.png') });

        const n = await apiAs('gis', '/api/v1/villages?format=json&period=2019');
        assert.notEqual(n.status, 200, 'no scores for the period of rejected rows (nothing was loaded)');
        noPageErrors(pageErrors);
      } finally {
        await context.close();
      }
    });
  });
}
