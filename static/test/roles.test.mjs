// Browser scenarios per role (issue 8), against the shared demo server:
//   officer  opens a household list after stating a purpose; an audit row exists
//   company  sees its area, rings, neighbours, suggestions, submits a plan; no
//            household data in any network response
//   planner  choropleth + classes, table/map sync, search, picks three villages
//            into a saved priority list, runs the matcher in locus mode and sees a
//            team on each; weights change the ranking; approves a plan; exports
//   gis      uploads a broken file and sees the error, then a good one, sees the
//            diff and activates it (LAST: it changes the active boundary set)
//
// Environment: as map.test.mjs (SINERGI_URL, SINERGI_DEMO_JSON, SINERGI_ARTIFACTS,
// CHROMIUM_PATH, CI).

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARTIFACTS, BASE, findKeys, noPageErrors, useBrowser, withServer } from './harness.mjs';

/** Keys of personal data (DESIGN.md privacy table) that a company must never receive. */
const PRIVATE_KEY = /(^|_)(nik|no_kk|nokk)($|_)|nama_kepala|alamat|head_name|address|^members$|poverty_decile|assign_method/i;

withServer('role scenarios', suite);

function suite() {
  const { userByRole, apiAs, openPage, signIn } = useBrowser();
  const tmp = mkdtempSync(join(tmpdir(), 'sinergi-ui-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  /** A viewport point on the village polygon with this code, or null when hidden. */
  async function pointInVillage(page, code) {
    return page.evaluate((code) => {
      const p = document.querySelector(`#map path.sinergi-village[data-code="${code}"]`);
      if (!p) return null;
      const r = p.getBoundingClientRect();
      const m = document.getElementById('map').getBoundingClientRect();
      for (let i = 1; i < 10; i++) {
        for (let j = 1; j < 10; j++) {
          const x = r.left + (r.width * i) / 10;
          const y = r.top + (r.height * j) / 10;
          if (x < m.left || x > m.right || y < m.top || y > m.bottom) continue;
          if (document.elementFromPoint(x, y) === p) return { x, y };
        }
      }
      return null;
    }, code);
  }

  /** Record every JSON-ish response body the page receives. */
  function recordBodies(page) {
    const pending = [];
    page.on('response', (resp) => {
      pending.push(
        (async () => {
          const url = resp.url();
          if (!url.startsWith(BASE)) return null;
          try {
            return { url, text: await resp.text() };
          } catch {
            return null;
          }
        })(),
      );
    });
    return async () => (await Promise.all(pending)).filter(Boolean);
  }

  describe('role scenarios', { timeout: 600_000 }, () => {
    test('officer opens a household list after stating a purpose, and an audit row exists', { timeout: 120_000 }, async () => {
      const { context, page, pageErrors } = await openPage();
      try {
        const officer = userByRole('officer');
        await signIn(page, officer);
        const tab = page.getByRole('tab', { name: 'Rumah tangga' });
        assert.equal(await tab.getAttribute('aria-selected'), 'true', 'households tab opens first');
        // No purpose → refused in the page, no request.
        await page.getByRole('button', { name: 'Tampilkan daftar' }).click();
        await page.locator('#hh-alert [role="alert"]').waitFor();
        const code = await page.locator('#hh-village').inputValue();
        assert.match(code, /^99\.01\./);
        const purpose = `verifikasi lapangan uji ${Date.now()}`;
        await page.getByLabel('Tujuan akses (wajib)').fill(purpose);
        const resp = page.waitForResponse((r) => r.url().includes(`/villages/${code}/households`));
        await page.getByRole('button', { name: 'Tampilkan daftar' }).click();
        const r = await resp;
        assert.equal(r.status(), 200, 'GET households');
        await page.locator('#hh-count').waitFor();
        const rows = await page.locator('#hh-table tbody tr').count();
        assert.ok(rows > 0, 'household rows shown');
        assert.ok((await page.locator('#hh-count').innerText()).includes(purpose), 'purpose echoed with the list');
        await page.screenshot({ path: join(ARTIFACTS, 'officer-households.png') });

        const audit = await apiAs('admin', '/api/v1/audit?limit=50');
        assert.equal(audit.status, 200, `GET /api/v1/audit → ${audit.status}`);
        const row = (audit.body.entries || []).find((e) => e.action === 'households.read' && e.purpose === purpose);
        assert.ok(row, 'audit row with the stated purpose');
        assert.equal(row.actor, officer.name);
        assert.equal(row.object, `village:${code}`);
        noPageErrors(pageErrors);
      } finally {
        await context.close();
      }
    });

    test('company sees its area, rings, neighbours and suggestions, submits a plan; no household data in any response', { timeout: 120_000 }, async () => {
      const { context, page, pageErrors } = await openPage();
      try {
        const bodies = recordBodies(page);
        await signIn(page, userByRole('company'));
        assert.equal(await page.getByRole('tab', { name: 'Perusahaan' }).getAttribute('aria-selected'), 'true');
        await page.locator('#company-name').waitFor();
        const neighbours = page.locator('#neighbour-list > li');
        await neighbours.first().waitFor();
        assert.ok((await neighbours.count()) >= 1, 'at least one neighbouring company listed');
        assert.match(await neighbours.first().innerText(), /PT /);
        assert.ok((await page.locator('#ring-table tbody tr[data-ring="1"]').count()) >= 1, 'ring-1 villages listed');
        assert.ok((await page.locator('#map path.company-own').count()) >= 1, 'own operating area drawn');
        assert.ok((await page.locator('#map path.company-neighbour').count()) >= 1, 'neighbours drawn');
        await page.screenshot({ path: join(ARTIFACTS, 'company.png') });

        // Plan entry.
        await page.getByRole('tab', { name: 'Rencana' }).click();
        await page.getByLabel('Anggaran (Rp)').fill('150000000');
        await page.getByLabel('Target KK').fill('25');
        await page.getByLabel('Program').fill('Pelatihan usaha mikro (uji)');
        const post = page.waitForResponse((r) => r.url().endsWith('/api/v1/plans') && r.request().method() === 'POST');
        await page.getByRole('button', { name: 'Ajukan rencana' }).click();
        assert.equal((await post).status(), 201, 'POST /plans');
        await page.locator('#plan-ok').waitFor();
        await page.locator('#company-plans .plan-list li').first().waitFor();
        await page.screenshot({ path: join(ARTIFACTS, 'company-plan.png') });

        // Privacy: no personal-data keys and no household records anywhere.
        const seen = await bodies();
        assert.ok(seen.some((b) => b.url.includes('/neighbours')), 'neighbours response inspected');
        const leaks = [];
        for (const { url, text } of seen) {
          let json;
          try {
            json = JSON.parse(text);
          } catch {
            continue;
          }
          findKeys(json, PRIVATE_KEY, url, '$', leaks);
          if (/"HH-\d+/.test(text)) leaks.push(`${url}: household id`);
        }
        assert.deepEqual(leaks.slice(0, 20), [], `household data in company responses (${leaks.length})`);
        assert.ok(!seen.some((b) => /\/households(\?|$)/.test(new URL(b.url).pathname)), 'no household endpoint called');
        noPageErrors(pageErrors);
      } finally {
        await context.close();
      }
    });

    test('planner: choropleth, synced table, search; three villages into a saved priority list; locus matcher shows a team on each', { timeout: 180_000 }, async () => {
      // Three villages the matcher can staff (asked of the API, so the scenario
      // does not depend on the generator's exact numbers).
      const top = await apiAs('planner', '/api/v1/villages?limit=40');
      assert.equal(top.status, 200, 'ranking');
      assert.ok(top.body.villages?.length, 'the ranking has scores (the demo computes them)');
      const year = Number(top.body.period) || new Date().getFullYear();
      const probe = await apiAs('planner', '/api/v1/match', { method: 'POST', json: { mode: 'locus', year, villages: top.body.villages.map((v) => v.code), save: false } });
      // save:false creates nothing: 200 (older servers stored the proposal anyway: 201).
      assert.ok([200, 201].includes(probe.status), `probe match ${probe.status}: ${JSON.stringify(probe.body).slice(0, 300)}`);
      const staffed = (probe.body.proposal.teams || []).map((tm) => tm.village_code);
      assert.ok(staffed.length >= 3, `the matcher staffs at least three of the top villages (${staffed.length})`);
      const picks = staffed.slice(0, 3);

      const { context, page, pageErrors } = await openPage();
      try {
        await signIn(page, userByRole('planner'));
        // Ranking table beside the map, one row per village.
        const rows = page.locator('#rank-table tbody tr[data-code]');
        await rows.first().waitFor();
        assert.equal(await rows.count(), Number(await page.evaluate(() => document.body.dataset.villages)));
        assert.equal(await rows.first().locator('td').first().innerText(), '1', 'first row is rank 1');

        // Choropleth: 5 quantile classes, then natural breaks, then 3 classes.
        const legend = page.locator('#choropleth-legend');
        assert.equal(await legend.getAttribute('data-classes'), '5');
        const quantileText = await legend.innerText();
        await page.getByLabel('Klasifikasi').selectOption('jenks');
        assert.notEqual(await legend.innerText(), quantileText, 'natural breaks differ from quantiles');
        await page.getByLabel('Kelas', { exact: true }).selectOption('3');
        assert.equal(await legend.getAttribute('data-classes'), '3');
        const fills = await page.evaluate(() => new Set([...document.querySelectorAll('#map path.sinergi-village')].map((p) => p.getAttribute('fill'))).size);
        assert.ok(fills >= 3 && fills <= 4, `three class colours on the map (+ no-data), got ${fills}`);
        await page.getByLabel('Ukuran').selectOption('density');
        assert.match(await page.locator('#rank-table thead').innerText(), /Kepadatan/);
        await page.getByLabel('Ukuran').selectOption('m0_eb');
        await page.getByLabel('Klasifikasi').selectOption('quantile');
        await page.getByLabel('Kelas', { exact: true }).selectOption('5');

        // Sync: hovering a table row highlights its polygon; hovering a polygon highlights the row.
        const firstCode = await rows.first().getAttribute('data-code');
        await rows.first().hover();
        assert.equal(await page.locator(`#map path[data-code="${firstCode}"]`).getAttribute('stroke'), '#c2410c', 'row hover → map highlight');
        const pt = await pointInVillage(page, await rows.nth(5).getAttribute('data-code'));
        if (pt) {
          await page.mouse.move(pt.x, pt.y);
          await page.locator('#rank-table tbody tr.is-hover').waitFor();
        }
        // Keyboard in the table: focus the row, arrow down, Enter selects.
        await rows.first().focus();
        await page.keyboard.press('ArrowDown');
        await page.keyboard.press('Enter');
        const second = await rows.nth(1).getAttribute('data-code');
        await page.locator(`#rank-table tr.is-selected[data-code="${second}"]`).waitFor();
        assert.equal(await page.locator(`#map path[data-code="${second}"]`).getAttribute('stroke'), '#0b5cab', 'table select → map select');
        await page.screenshot({ path: join(ARTIFACTS, 'planner-ranking.png') });

        // Search flies to a village and opens its score card.
        const target = top.body.villages[2];
        await page.getByLabel('Cari nama atau kode desa').fill(target.code);
        await page.getByLabel('Cari nama atau kode desa').press('Enter');
        await page.locator('#village-name', { hasText: target.name }).waitFor();
        await page.locator('#score-card').waitFor();
        assert.match(await page.locator('#village-rank').innerText(), /Peringkat 3 dari/);
        assert.ok((await page.locator('#contributions li').count()) >= 2, 'indicator contributions shown');
        await page.screenshot({ path: join(ARTIFACTS, 'planner-village.png') });

        // Priority list: pick three villages by clicking them (map, or the table row when hidden).
        await page.getByRole('tab', { name: 'Prioritas' }).click();
        await page.getByLabel('Nama daftar').fill(`Prioritas uji ${Date.now()}`);
        await page.getByRole('button', { name: 'Pilih desa di peta' }).click();
        await page.getByRole('tab', { name: 'Peringkat' }).click();
        for (const code of picks) {
          const p = await pointInVillage(page, code);
          if (p) await page.mouse.click(p.x, p.y);
          else await page.locator(`#rank-table tr[data-code="${code}"]`).click();
          await page.locator(`#rank-table tr.is-listed[data-code="${code}"]`).waitFor();
        }
        await page.getByRole('tab', { name: 'Prioritas' }).click();
        assert.deepEqual(await page.locator('#prio-items li[data-code]').evaluateAll((l) => l.map((x) => x.dataset.code)), picks);
        const save = page.waitForResponse((r) => r.url().endsWith('/api/v1/priorities') && r.request().method() === 'POST');
        await page.getByRole('button', { name: 'Simpan daftar' }).click();
        assert.equal((await save).status(), 201, 'POST /priorities');
        await page.locator('#prio-saved').waitFor();

        await page.getByLabel('Mode').selectOption('locus');
        const match = page.waitForResponse((r) => r.url().endsWith('/api/v1/match') && r.request().method() === 'POST', { timeout: 120_000 });
        await page.getByRole('button', { name: 'Jalankan pencocokan' }).click();
        assert.equal((await match).status(), 201, 'POST /match');
        await page.locator('#team-list').waitFor({ timeout: 60_000 });
        for (const code of picks) {
          const li = page.locator(`#team-list > li[data-code="${code}"]`);
          assert.equal(await li.getAttribute('data-team'), 'yes', `a team on ${code}`);
          assert.match(await li.locator('.team-members').innerText(), /PT /);
          assert.equal(await page.locator(`#map [data-team="${code}"]`).count(), 1, `team marker on the map for ${code}`);
        }
        await page.screenshot({ path: join(ARTIFACTS, 'planner-priority-match.png') });
        noPageErrors(pageErrors);
      } finally {
        await context.close();
      }
    });

    test('planner: weights change the ranking, plans are approved, exports download', { timeout: 180_000 }, async () => {
      const before = await apiAs('planner', '/api/v1/weights');
      assert.equal(before.status, 200);
      const original = before.body.current;
      const { context, page, pageErrors } = await openPage();
      try {
        await signIn(page, userByRole('planner'));
        const firstBefore = await page.locator('#rank-table tbody tr[data-code]').first().getAttribute('data-code');
        await page.getByRole('tab', { name: 'Bobot' }).click();
        await page.getByLabel('Stunting').fill('0.9');
        await page.getByLabel('Kemiskinan ekstrem').fill('0.05');
        await page.getByLabel('Pengangguran').fill('0.05');
        await page.getByLabel('Catatan perubahan').fill('uji peramban');
        const put = page.waitForResponse((r) => r.url().endsWith('/api/v1/weights') && r.request().method() === 'PUT', { timeout: 120_000 });
        await page.getByRole('button', { name: 'Simpan bobot & hitung ulang' }).click();
        assert.equal((await put).status(), 200, 'PUT /weights');
        await page.locator('#weights-saved').waitFor({ timeout: 60_000 });
        await page.getByRole('tab', { name: 'Peringkat' }).click();
        const moved = await page.locator('#rank-table td.delta:not([data-delta="0"])').count();
        assert.ok(moved > 0, 'ranks moved after the weight change');
        const firstAfter = await page.locator('#rank-table tbody tr[data-code]').first().getAttribute('data-code');
        assert.notEqual(firstAfter, firstBefore, 'a different village tops the ranking');
        await page.screenshot({ path: join(ARTIFACTS, 'planner-weights.png') });

        // Exports are links to the ranking API.
        for (const f of ['csv', 'xlsx', 'geojson']) {
          const href = await page.locator(`#exports a[data-format="${f}"]`).getAttribute('href');
          const r = await page.request.get(BASE + href);
          assert.equal(r.status(), 200, `export ${f}`);
        }

        // Approve a submitted plan.
        await page.getByRole('tab', { name: 'Rencana' }).click();
        const item = page.locator('#plans-list li[data-status="submitted"]').first();
        await item.waitFor();
        const id = await item.getAttribute('data-plan');
        const approve = page.waitForResponse((r) => r.url().endsWith(`/api/v1/plans/${id}/approve`));
        await item.getByRole('button', { name: `Setujui #${id}` }).click();
        assert.equal((await approve).status(), 200, 'POST approve');
        await page.locator('#plans-ok').waitFor();
        const check = await apiAs('planner', `/api/v1/plans?status=approved`);
        assert.ok(check.body.plans.some((p) => String(p.id) === id), `plan ${id} approved`);
        await page.screenshot({ path: join(ARTIFACTS, 'planner-plans.png') });

        // 1024×768: the panel and the map still fit.
        await page.setViewportSize({ width: 1024, height: 768 });
        for (const sel of ['#panel-tabs', '#map', '#village-search']) {
          const b = await page.locator(sel).boundingBox();
          assert.ok(b && b.x >= 0 && b.x + b.width <= 1024 && b.y + b.height <= 768, `${sel} inside 1024×768`);
        }
        await page.screenshot({ path: join(ARTIFACTS, 'planner-tablet.png') });
        noPageErrors(pageErrors);
      } finally {
        await context.close();
        // Put the weights back so the other scenarios see the demo ranking.
        if (original) await apiAs('planner', '/api/v1/weights', { method: 'PUT', json: { indicators: original.indicators, k: original.k, note: 'uji: bobot dikembalikan' } });
      }
    });

    test('tile overlays: kecamatan outlines and need grid, de-duplicated across tiles', { timeout: 120_000 }, async () => {
      const { context, page, pageErrors } = await openPage();
      try {
        await signIn(page, userByRole('planner'));
        await page.waitForFunction(() => Number(document.body.dataset.kecamatanFeatures) > 0);
        const kec = await page.evaluate(() => ({
          n: Number(document.body.dataset.kecamatanFeatures),
          ids: [...document.querySelectorAll('#map path[data-feature-id]')].map((p) => p.dataset.featureId),
        }));
        assert.equal(new Set(kec.ids).size, kec.ids.length, 'one path per kecamatan (no duplicates from several tiles)');
        assert.equal(kec.ids.length, kec.n);
        assert.ok(kec.n >= 2, `kecamatan outlines drawn (${kec.n})`);
        await page.getByLabel('Kepadatan KK membutuhkan (grid)').check();
        await page.getByLabel('Cari nama atau kode desa').fill((await page.locator('#rank-table tbody tr[data-code]').first().getAttribute('data-code')) || '');
        await page.getByLabel('Cari nama atau kode desa').press('Enter');
        await page.waitForFunction(() => Number(document.body.dataset.needFeatures) > 0, null, { timeout: 30_000 });
        await page.screenshot({ path: join(ARTIFACTS, 'layers-need.png') });
        noPageErrors(pageErrors);
      } finally {
        await context.close();
      }
    });

    test('GIS: a broken file shows the error; a good one shows the diff on the map and is activated', { timeout: 420_000 }, async () => {
      const active = await apiAs('gis', '/api/v1/boundaries/active?format=geojson');
      assert.equal(active.status, 200, 'active boundaries');
      const fc = active.body;
      const victim = fc.features.find((f) => f.properties?.code) || assert.fail('no feature');
      const code = victim.properties.code;
      const nudge = (c) => (typeof c[0] === 'number' ? [c[0] + 0.002, c[1] + 0.001] : c.map(nudge));
      victim.geometry.coordinates = nudge(victim.geometry.coordinates);
      const good = join(tmp, 'desa-baru.geojson');
      writeFileSync(good, JSON.stringify(fc));
      const broken = join(tmp, 'rusak.geojson');
      writeFileSync(broken, '{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[107.1,');

      const { context, page, pageErrors } = await openPage();
      try {
        await signIn(page, userByRole('gis'));
        assert.equal(await page.getByRole('tab', { name: 'Batas wilayah' }).getAttribute('aria-selected'), 'true');
        const file = page.getByLabel('Berkas (GeoJSON, Shapefile .zip, GeoPackage, KML)');

        await file.setInputFiles(broken);
        const r1 = page.waitForResponse((r) => r.url().endsWith('/api/v1/boundaries') && r.request().method() === 'POST');
        await page.getByRole('button', { name: 'Periksa berkas' }).click();
        const resp1 = await r1;
        assert.equal(resp1.status(), 422, 'broken file → 422');
        const detail = (await resp1.json()).detail;
        const alert = page.locator('#bd-alert [role="alert"]');
        await alert.waitFor();
        assert.ok((await alert.innerText()).includes(detail), 'the server detail is shown');
        assert.ok(await page.getByRole('button', { name: 'Simpan sebagai draf & bandingkan' }).isDisabled(), 'cannot store a broken file');
        await page.screenshot({ path: join(ARTIFACTS, 'gis-broken.png') });

        await file.setInputFiles(good);
        await page.getByRole('button', { name: 'Periksa berkas' }).click();
        await page.locator('#bd-verdict.ok-line').waitFor({ timeout: 60_000 });
        assert.equal(await alert.count(), 0, 'error cleared');
        const store = page.waitForResponse((r) => r.url().endsWith('/api/v1/boundaries') && r.request().method() === 'POST', { timeout: 120_000 });
        await page.getByRole('button', { name: 'Simpan sebagai draf & bandingkan' }).click();
        const stored = await store;
        assert.equal(stored.status(), 201, 'draft stored');
        const setId = (await stored.json()).id;
        // The diff counts the households that would move: slow on 200 000 rows.
        await page.locator('#diff-counts').waitFor({ timeout: 240_000 });
        assert.equal(await page.locator('#diff-counts li[data-kind="changed"]').getAttribute('data-n'), '1', 'one changed village');
        assert.equal(await page.locator(`#diff-list li[data-code="${code}"]`).getAttribute('data-kind'), 'changed');
        assert.equal(await page.locator(`#map path.sinergi-village[data-code="${code}"]`).getAttribute('stroke'), '#f59e0b', 'changed village coloured on the map');
        await page.screenshot({ path: join(ARTIFACTS, 'gis-diff.png') });

        const act = page.waitForResponse((r) => r.url().endsWith(`/api/v1/boundaries/${setId}/activate`), { timeout: 240_000 });
        await page.getByRole('button', { name: `Aktifkan set #${setId}` }).click();
        assert.equal((await act).status(), 200, 'activate');
        await page.locator('#bd-activated').waitFor({ timeout: 60_000 });
        await page.locator(`#bd-set-list li[data-set="${setId}"][data-status="active"]`).waitFor();
        assert.ok((await page.locator('#bd-set-list button[data-rollback]').count()) >= 1, 'roll-back offered for the previous set');
        await page.screenshot({ path: join(ARTIFACTS, 'gis-activated.png') });
        noPageErrors(pageErrors);
      } finally {
        await context.close();
      }
    });
  });
}

