// HTTP client for the Sinergi API (/api/v1).
//
// - Same-origin requests; the session lives in an HttpOnly cookie set by
//   POST /api/v1/login, so credentials: 'same-origin' is all we need.
// - Every non-2xx response becomes an ApiError carrying the RFC 9457
//   problem+json fields (title, status, detail, ...), whatever the body was.
// - Network failures and time-outs become ApiError with status 0 and a
//   `kind` of "network" or "timeout" (the UI translates those).

import { t } from './i18n.js';

export const API_BASE = '/api/v1';

/** Error thrown for any failed API call. */
export class ApiError extends Error {
  /**
   * @param {object} o
   * @param {number} o.status HTTP status (0 for network/time-out)
   * @param {string} [o.title]
   * @param {string} [o.detail]
   * @param {string} [o.type]
   * @param {'http'|'network'|'timeout'} [o.kind]
   * @param {object} [o.problem] full problem document, if any
   */
  constructor({ status, title, detail, type, kind = 'http', problem }) {
    super(detail || title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.title = title || '';
    this.detail = detail || '';
    this.type = type || '';
    this.kind = kind;
    this.problem = problem || null;
  }

  /** A message for people, in the current language when the server gave none. */
  userMessage() {
    if (this.kind === 'network') return t('error.network');
    if (this.kind === 'timeout') return t('error.timeout');
    return this.detail || this.title || t('error.http', { status: this.status });
  }
}

function isJsonType(ct) {
  // application/json, application/problem+json, application/geo+json, ...
  return /^application\/([\w.-]+\+)?json\b/i.test(ct || '');
}

/**
 * Perform a request against the API.
 * @param {string} path path below /api/v1, e.g. "/me"
 * @param {object} [opts]
 * @param {string} [opts.method]
 * @param {object} [opts.json] request body, sent as application/json
 * @param {Record<string,string>} [opts.query]
 * @param {number} [opts.timeoutMs]
 * @param {AbortSignal} [opts.signal]
 * @returns {Promise<any>} parsed JSON body (or null for empty bodies)
 */
export async function request(path, { method = 'GET', json, form, query, timeoutMs = 30000, signal } = {}) {
  let url = path.startsWith('/tiles/') ? path : API_BASE + path;
  if (query) {
    const qs = new URLSearchParams(query).toString();
    if (qs) url += (url.includes('?') ? '&' : '?') + qs;
  }

  const headers = { Accept: 'application/json, application/problem+json;q=0.9' };
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form; // FormData: the browser sets the multipart boundary
  }

  const ctrl = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    ctrl.abort();
  }, timeoutMs);
  const onAbort = () => ctrl.abort();
  signal?.addEventListener('abort', onAbort, { once: true });

  let res;
  try {
    res = await fetch(url, {
      method,
      headers,
      body,
      credentials: 'same-origin',
      cache: 'no-store',
      signal: ctrl.signal,
    });
  } catch (err) {
    if (signal?.aborted) throw err; // caller cancelled: propagate AbortError
    throw new ApiError({ status: 0, kind: timedOut ? 'timeout' : 'network', detail: '' });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }

  return parseResponse(res);
}

/**
 * The body of a fetch Response as JSON; non-2xx becomes an ApiError.
 * @param {Response} res
 */
async function parseResponse(res) {
  const text = await res.text();
  return parseBody({ status: res.status, statusText: res.statusText, type: res.headers.get('Content-Type') || '', text });
}

/**
 * A response already read: its JSON, or an ApiError for non-2xx.
 * @param {{status: number, statusText: string, type: string, text: string}} r
 */
function parseBody({ status, statusText, type: ct, text }) {
  const res = { status, statusText, ok: status >= 200 && status < 300 };
  let data = null;
  if (text && isJsonType(ct)) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }

  if (!res.ok) {
    const p = data && typeof data === 'object' ? data : {};
    throw new ApiError({
      status: res.status,
      title: typeof p.title === 'string' ? p.title : res.statusText,
      detail: typeof p.detail === 'string' ? p.detail : '',
      type: typeof p.type === 'string' ? p.type : '',
      problem: data && typeof data === 'object' ? data : null,
    });
  }
  if (text && data === null) {
    // 2xx but not JSON: the endpoints used here always answer JSON.
    throw new ApiError({ status: res.status, title: 'Unexpected response', detail: '' });
  }
  return data;
}

// ---- Prefetched responses -----------------------------------------------
// The inline script in index.html starts GET /boot and the village layer
// before this bundle has arrived (window.sinergiPrefetch: promises of
// {status, statusText, type, text}). Each is used once, by the first caller;
// later calls go to the network as usual.

const prefetched = (typeof window !== 'undefined' && window.sinergiPrefetch) || {};

/** The prefetched response for key parsed like request() would, or null when there is none (left). */
function takePrefetch(key) {
  const p = prefetched[key];
  if (!p) return null;
  delete prefetched[key];
  return p.then(parseBody, () => {
    throw new ApiError({ status: 0, kind: 'network', detail: '' });
  });
}

/** Forget a prefetched response that will not be used (e.g. villages when signed out). */
export function dropPrefetch(key) {
  delete prefetched[key];
}

// ---- Endpoints -----------------------------------------------------------

/** GET /me → {user} ; 401 when not signed in. */
export async function me() {
  const data = await request('/me');
  return data.user;
}

/** POST /login {username,password} → {user}; sets the session cookie. */
export async function login(username, password) {
  const data = await request('/login', { method: 'POST', json: { username, password } });
  return data.user;
}

/** POST /logout; clears the session cookie. */
export function logout() {
  return request('/logout', { method: 'POST' });
}

/** GET /config → {basemap_url, basemap_attribution, regency_name}. No auth. */
export function config() {
  return request('/config');
}

/**
 * GET /boot → {config, user}: the /config document and the signed-in user, or
 * user null when signed out. No auth. Uses the page's prefetch when there is one.
 */
export function boot() {
  return takePrefetch('boot') || request('/boot');
}

/**
 * GET /villages?format=geojson → FeatureCollection of active village boundaries.
 * The first call after the page loaded takes over the page's prefetch.
 */
export function villagesGeoJSON({ signal } = {}) {
  return takePrefetch('villages') || request('/villages', { query: { format: 'geojson' }, timeoutMs: 90000, signal });
}

/** GET /villages?format=json with the ranking (sort, kecamatan, period). */
export function ranking(query = {}, { signal } = {}) {
  return request('/villages', { query: { format: 'json', ...query }, timeoutMs: 90000, signal });
}

/** Link (not fetched) to a ranking export: csv, xlsx or geojson. */
export function exportUrl(format, query = {}) {
  const qs = new URLSearchParams({ format, ...query }).toString();
  return `${API_BASE}/villages?${qs}`;
}

/** GET /villages/{code}: score card, kecamatan/regency summaries, trend, neighbours. */
export function villageDetail(code, { signal } = {}) {
  return request(`/villages/${encodeURIComponent(code)}`, { signal });
}

export const getWeights = () => request('/weights');
export const putWeights = (body) => request('/weights', { method: 'PUT', json: body, timeoutMs: 120000 });
export const priorities = () => request('/priorities');
export const savePriorities = (body) => request('/priorities', { method: 'POST', json: body });
export const runMatch = (body) => request('/match', { method: 'POST', json: body, timeoutMs: 180000 });
export const acceptProposal = (id) => request(`/match/${id}/accept`, { method: 'POST' });
export const plans = (query = {}) => request('/plans', { query });
export const createPlan = (body) => request('/plans', { method: 'POST', json: body });
export const approvePlan = (id) => request(`/plans/${id}/approve`, { method: 'POST' });
export const planStatus = (id, body) => request(`/plans/${id}/status`, { method: 'POST', json: body });
export const companies = () => request('/companies');
export const company = (id) => request(`/companies/${id}`);
export const updateCompany = (id, body) => request(`/companies/${id}`, { method: 'PUT', json: body });
/** Replace a company's operating area; PUT takes the whole record, so the rest is sent back as it was. */
export const updateCompanyArea = (co, area) =>
  updateCompany(co.id, {
    key: co.key,
    name: co.name,
    sectors: co.sectors,
    budget_per_year: co.budget_per_year ?? 0,
    budget_by_sector: co.budget_by_sector ?? null,
    reach_km: co.reach_km,
    area,
    sites: co.sites ?? null,
  });
export const companyRings = (id) => request(`/companies/${id}/rings`);
export const companyNeighbours = (id) => request(`/companies/${id}/neighbours`);
export const companySuggestions = (id) => request(`/companies/${id}/suggestions`);
export const coverage = (year) => request('/coverage', { query: { year: String(year) } });
export const boundarySets = () => request('/boundaries');
/** POST /boundaries (multipart): the validation report; dry runs store nothing. */
export const uploadBoundaries = (form) => request('/boundaries', { method: 'POST', form, timeoutMs: 600000 });
export const boundaryDiff = (id) => request(`/boundaries/${id}/diff`, { timeoutMs: 600000 });
export const activateBoundaries = (id) => request(`/boundaries/${id}/activate`, { method: 'POST', timeoutMs: 600000 });
/** GET /villages/{code}/households?purpose= (officer; the server writes an audit row). */
export const households = (code, purpose) =>
  request(`/villages/${encodeURIComponent(code)}/households`, { query: { purpose }, timeoutMs: 60000 });

/** GET /tiles/{layer}/{z}/{x}/{y}.geojson */
export function tile(layer, z, x, y, { signal } = {}) {
  return request(`/tiles/${layer}/${z}/${x}/${y}.geojson`, { signal, timeoutMs: 60000 });
}
