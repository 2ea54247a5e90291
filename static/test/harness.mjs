// Shared set-up for the browser tests: the environment contract with
// scripts/test.sh, one Chromium per test file, demo users, direct API calls with a
// role's token, fresh pages, sign-in, and small assertions.
//
// Environment (normally set by scripts/test.sh):
//   SINERGI_URL        base URL of the running server with demo data
//   SINERGI_DEMO_JSON  path to {"users":[{"name","role","password","token"}, ...], ...}
//   SINERGI_ARTIFACTS  folder for screenshots (created; default static/test/artifacts)
//   CHROMIUM_PATH      Chromium binary (default /usr/bin/chromium)
//   CI                 when set and SINERGI_URL is missing, fail instead of skipping

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const BASE = (process.env.SINERGI_URL || '').replace(/\/+$/, '');
export const IN_CI = !!process.env.CI && !/^(0|false|no)$/i.test(process.env.CI);
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const ARTIFACTS = resolve(process.env.SINERGI_ARTIFACTS || join(here, 'artifacts'));
export const READY_TIMEOUT = 45_000;

/**
 * Runs suite() when a server is configured; otherwise one test named name that
 * fails under CI and is skipped elsewhere.
 */
export function withServer(name, suite) {
  if (BASE) {
    suite();
  } else if (IN_CI) {
    test(name, () =>
      assert.fail('SINERGI_URL is not set: the browser tests need a running Sinergi server with demo data ' +
        '(scripts/test.sh starts one and sets SINERGI_URL, SINERGI_DEMO_JSON and SINERGI_ARTIFACTS).'));
  } else {
    test(name, { skip: 'SINERGI_URL is not set (run via scripts/test.sh)' }, () => {});
  }
}

/** The demo users from SINERGI_DEMO_JSON. */
export function loadDemoUsers() {
  const file = process.env.SINERGI_DEMO_JSON;
  assert.ok(file, 'SINERGI_DEMO_JSON is not set (path to the demo users JSON)');
  const demo = JSON.parse(readFileSync(file, 'utf8'));
  assert.ok(Array.isArray(demo.users) && demo.users.length, `${file}: no "users" array`);
  return demo.users;
}

/**
 * Registers before/after hooks that start and stop one Chromium and read the demo
 * users, and returns the helpers that use them.
 */
export function useBrowser() {
  /** @type {import('playwright-core').Browser} */
  let browser;
  let users;

  before(async () => {
    users = loadDemoUsers();
    assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM} (set CHROMIUM_PATH or apt-get install chromium)`);
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
  });

  after(async () => {
    await browser?.close();
  });

  const userByRole = (role) => {
    const u = users.find((x) => x.role === role);
    assert.ok(u, `demo JSON has no user with role "${role}"`);
    return u;
  };

  /** Direct API call with a role's bearer token (set-up and checks, not the UI). */
  async function apiAs(role, path, { method = 'GET', json } = {}) {
    const res = await fetch(BASE + path, {
      method,
      headers: { Authorization: `Bearer ${userByRole(role).token}`, ...(json ? { 'Content-Type': 'application/json' } : {}) },
      body: json ? JSON.stringify(json) : undefined,
    });
    const text = await res.text();
    let body = null;
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
    return { status: res.status, body };
  }

  /** Fresh context (no cookies, no localStorage) + page that records page errors. */
  async function openPage(viewport = { width: 1280, height: 800 }) {
    const context = await browser.newContext({ viewport, locale: 'id-ID' });
    const page = await context.newPage();
    page.setDefaultTimeout(20_000);
    const pageErrors = [];
    page.on('pageerror', (err) => pageErrors.push(err));
    return { context, page, pageErrors };
  }

  /** Signs user in through the form and waits for the map to be ready. */
  async function signIn(page, user) {
    await page.goto(BASE + '/', { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => document.body.dataset.state === 'login', null, { timeout: READY_TIMEOUT });
    await page.getByLabel('Nama pengguna').fill(user.name);
    await page.getByLabel('Kata sandi').fill(user.password);
    await page.getByRole('button', { name: 'Masuk', exact: true }).click();
    await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.state), null, { timeout: READY_TIMEOUT });
    assert.equal(await page.evaluate(() => document.body.dataset.state), 'ready', `${user.role}: map ready`);
  }

  return { users: () => users, userByRole, apiAs, openPage, signIn };
}

/** Fails when the page threw uncaught errors. */
export function noPageErrors(pageErrors) {
  assert.deepEqual(pageErrors.map((e) => String(e?.stack || e)), [], 'uncaught errors in the page');
}

/** Collects paths of object keys matching re anywhere in value. */
export function findKeys(value, re, url, path, out) {
  if (Array.isArray(value)) {
    value.forEach((v, i) => findKeys(v, re, url, `${path}[${i}]`, out));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (re.test(k)) out.push(`${url} ${path}.${k}`);
      findKeys(v, re, url, `${path}.${k}`, out);
    }
  }
}
