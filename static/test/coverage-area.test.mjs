// Planner coverage tab (issue 8): need vs planned money per village and sector,
// gaps and overlaps as a table and as village colours on the map, checked
// against GET /api/v1/coverage. Also: a company draws and edits its operating
// area with Geoman and the rings change.
//
// Environment: as map.test.mjs (SINERGI_URL, SINERGI_DEMO_JSON, SINERGI_ARTIFACTS,
// CHROMIUM_PATH, CI).

import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, noPageErrors, useBrowser, withServer } from './harness.mjs';

// Keep in sync with COVERAGE_COLORS in src/panels/coverage.js.
const COLORS = { overlap: '#ea580c', gap: '#dc2626', submitted: '#facc15', covered: '#16a34a', none: '#cbd5e1' };

withServer('coverage scenarios', suite);

function suite() {
  const { userByRole, apiAs, openPage, signIn } = useBrowser();

  /** Fill colour of a village polygon on the map. */
  const fillOf = (page, code) => page.evaluate((code) => document.querySelector(`#map path.sinergi-village[data-code="${code}"]`)?.getAttribute('fill'), code);

  describe('coverage scenarios', { timeout: 600_000 }, () => {
    test('planner: coverage table matches the API; gaps and planned villages coloured on the map; filters', { timeout: 180_000 }, async () => {
      const { context, page, pageErrors } = await openPage();
      try {
        const year = new Date().getFullYear();
        const api = await apiAs('planner', `/api/v1/coverage?year=${year}`);
        assert.equal(api.status, 200, `GET coverage → ${api.status}`);
        const cells = api.body.cells;
        assert.ok(cells.length > 0, 'demo data has coverage cells');
        const gaps = cells.filter((c) => c.gap);
        assert.ok(gaps.length > 0, 'demo data has gaps');

        await signIn(page, userByRole('planner'));
        // Before the tab is opened the map keeps the choropleth.
        const gapVillage = gaps[0].village_code;
        assert.notEqual(await fillOf(page, gapVillage), COLORS.gap, 'no coverage colours before the tab opens');

        await page.getByRole('tab', { name: 'Cakupan' }).click();
        await page.locator('#cov-table tbody tr').first().waitFor();
        assert.equal(await page.evaluate(() => document.body.dataset.coverageCells), String(cells.length), 'all cells loaded');
        assert.equal(await page.locator('#cov-table tbody tr').count(), Math.min(cells.length, 300), 'one row per cell (capped)');
        assert.match(await page.locator('#cov-summary').innerText(), new RegExp(`${gaps.length} celah`), 'summary counts the gaps');

        // Map: a gap village is red unless an overlap in another sector wins; a
        // village with approved money and no gap/overlap/submitted is green.
        const byV = new Map();
        for (const c of cells) (byV.get(c.village_code) || byV.set(c.village_code, []).get(c.village_code)).push(c);
        const gapOnly = [...byV].find(([, cs]) => cs.some((c) => c.gap) && !cs.some((c) => c.overlap));
        assert.ok(gapOnly, 'a village with a gap');
        assert.equal(await fillOf(page, gapOnly[0]), COLORS.gap, `gap village ${gapOnly[0]} is red`);
        const planned = [...byV].find(([, cs]) => cs.some((c) => c.planned_budget > 0) && !cs.some((c) => c.gap || c.overlap));
        if (planned) assert.equal(await fillOf(page, planned[0]), COLORS.covered, `planned village ${planned[0]} is green`);
        const emptyV = [...byV].find(([, cs]) => cs.every((c) => !c.gap && !c.overlap && !c.planned_budget && !c.submitted_budget));
        if (emptyV) assert.equal(await fillOf(page, emptyV[0]), COLORS.none, `village ${emptyV[0]} without plans is grey`);
        await page.screenshot({ path: join(ARTIFACTS, 'planner-coverage.png') });

        // Filters: gaps only; then one sector.
        await page.locator('#cov-show').selectOption('gaps');
        assert.equal(await page.locator('#cov-table tbody tr').count(), Math.min(gaps.length, 300), 'gap rows only');
        assert.equal(await page.locator('#cov-table tbody tr:not([data-status="gap"])').count(), 0, 'every row is a gap');
        const sector = gaps[0].sector;
        await page.locator('#cov-sector').selectOption(sector);
        const nSector = gaps.filter((c) => c.sector === sector).length;
        assert.equal(await page.locator('#cov-table tbody tr').count(), Math.min(nSector, 300), `gap rows in sector ${sector}`);
        assert.equal(await page.locator(`#cov-table tbody tr:not([data-sector="${sector}"])`).count(), 0);
        await page.screenshot({ path: join(ARTIFACTS, 'planner-coverage-gaps.png') });

        // A row click selects the village.
        await page.locator('#cov-table tbody tr').first().click();
        const code = await page.locator('#cov-table tbody tr').first().getAttribute('data-village');
        await page.waitForFunction((code) => document.querySelector('#village-select')?.value === code || document.body.innerText.includes(code), code);

        // Colours off → the choropleth again.
        await page.locator('#cov-colour').uncheck();
        assert.notEqual(await fillOf(page, gapOnly[0]), COLORS.gap, 'colours switched off');
        noPageErrors(pageErrors);
      } finally {
        await context.close();
      }
    });
    test('company draws a second polygon and drags a vertex of its area; the saved area and the rings change', { timeout: 180_000 }, async () => {
      const company = userByRole('company');
      const me = await apiAs('company', '/api/v1/me');
      const id = me.body.user.company_id;
      assert.ok(id, 'demo company user has a company');
      const before = (await apiAs('company', `/api/v1/companies/${id}`)).body;
      const ringsBefore = (await apiAs('company', `/api/v1/companies/${id}/rings`)).body.villages;
      const ringSet = new Set(ringsBefore.map((r) => r.code));
      const { context, page, pageErrors } = await openPage();
      try {
        await signIn(page, company);
        await page.locator('#company-name').waitFor();
        await page.locator('#ring-table tbody tr').first().waitFor();
        await page.waitForTimeout(1200); // the fly-to-area animation
        // A visible village outside both rings, away from the map edges and the legend.
        const target = await page.evaluate((ringCodes) => {
          const ring = new Set(ringCodes);
          const m = document.getElementById('map').getBoundingClientRect();
          const legend = document.querySelector('.leaflet-control-container .legend, #legend')?.getBoundingClientRect();
          let best = null;
          for (const p of document.querySelectorAll('#map path.sinergi-village')) {
            const code = p.dataset.code;
            if (ring.has(code)) continue;
            const r = p.getBoundingClientRect();
            const x = r.left + r.width / 2;
            const y = r.top + r.height / 2;
            if (x < m.left + 340 || x > m.right - 60 || y < m.top + 80 || y > m.bottom - 60) continue;
            if (legend && x > legend.left - 20 && x < legend.right + 20 && y > legend.top - 20 && y < legend.bottom + 20) continue;
            if (document.elementFromPoint(x, y) !== p) continue;
            if (r.width < 40 || r.height < 40) continue;
            if (!best || r.width * r.height > best.a) best = { code, x, y, a: r.width * r.height };
          }
          return best;
        }, [...ringSet]);
        assert.ok(target, 'a visible village outside the rings to draw on');

        await page.locator('#area-edit-start').click();
        await page.locator('#area-parts').waitFor();
        const nBefore = before.area.coordinates.length;
        assert.match(await page.locator('#area-parts').innerText(), new RegExp(`^${nBefore} `), 'editor shows the current parts');

        // Draw a small square inside the target village; close it on the first point.
        await page.locator('#area-draw').click();
        const d = 12;
        const pts = [[-d, -d], [d, -d], [d, d], [-d, d]].map(([dx, dy]) => [target.x + dx, target.y + dy]);
        for (const [x, y] of pts) {
          await page.mouse.click(x, y);
          await page.waitForTimeout(150);
        }
        await page.mouse.click(pts[0][0], pts[0][1]);
        await page.waitForFunction((n) => document.getElementById('area-parts')?.textContent.startsWith(`${n} `), nBefore + 1);

        // Drag one corner point of the existing area.
        const vertex = page.locator('#map .marker-icon:not(.marker-icon-middle)').first();
        const box = await vertex.boundingBox();
        assert.ok(box, 'vertex markers shown');
        await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
        await page.mouse.down();
        await page.mouse.move(box.x + box.width / 2 + 30, box.y + box.height / 2 + 20, { steps: 8 });
        await page.mouse.up();
        await page.screenshot({ path: join(ARTIFACTS, 'company-area-edit.png') });

        const put = page.waitForResponse((r) => r.url().endsWith(`/api/v1/companies/${id}`) && r.request().method() === 'PUT');
        await page.locator('#area-save').click();
        assert.equal((await put).status(), 200, 'PUT company');
        await page.locator('#area-saved').waitFor();
        await page.locator(`#ring-table tbody tr[data-code="${target.code}"][data-ring="1"]`).waitFor();
        await page.screenshot({ path: join(ARTIFACTS, 'company-area-saved.png') });

        const after = (await apiAs('company', `/api/v1/companies/${id}`)).body;
        assert.equal(after.area.type, 'MultiPolygon');
        assert.equal(after.area.coordinates.length, nBefore + 1, 'one more polygon saved');
        assert.notDeepEqual(after.area.coordinates.slice(0, nBefore), before.area.coordinates, 'the dragged vertex moved the old outline');
        const ringsAfter = (await apiAs('company', `/api/v1/companies/${id}/rings`)).body.villages;
        assert.equal(ringsAfter.find((r) => r.code === target.code)?.ring, 1, `${target.code} is ring 1 after drawing on it`);
        assert.ok(ringsAfter.length > ringsBefore.length, `rings grew: ${ringsBefore.length} → ${ringsAfter.length}`);
        noPageErrors(pageErrors);
      } finally {
        await context.close();
        // Put the demo area back for the other scenarios.
        const restore = await apiAs('company', `/api/v1/companies/${id}`, {
          method: 'PUT',
          json: { key: before.key, name: before.name, sectors: before.sectors, budget_per_year: before.budget_per_year ?? 0, budget_by_sector: before.budget_by_sector ?? null, reach_km: before.reach_km, area: before.area, sites: before.sites ?? null },
        });
        assert.equal(restore.status, 200, `restore the demo area → ${restore.status} ${JSON.stringify(restore.body)}`);
      }
    });
  });
}
