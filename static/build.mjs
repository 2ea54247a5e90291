// Build script for the Sinergi web front-end.
//
//   npm run build          (from static/)
//
// Bundles src/app.js (and the CSS it imports, including Leaflet's) with esbuild
// and writes dist/index.html with the app's own code and CSS INLINE: on a slow
// line (Chrome's "Fast 3G": 562.5 ms per request) a separate app.js costs one
// more dependent round trip after the HTML, and the line sits idle meanwhile;
// inline, the code streams in right behind the HTML head, while the page's
// inline prefetch script (src/index.html) already asks for the session and the
// village layer. Browsers still cache the page: the server sends index.html
// with an ETag (api/boot.go), so a revisit costs a 304.
//
// Leaflet stays a separate, content-hashed chunk (dist/chunk-<hash>.js), shared
// with the area editor and announced with <link rel="modulepreload"> at the top
// of the head: it is requested as soon as the head arrives, the browser compiles
// it off the main thread while it streams, and it can be cached for good. The
// area editor (Geoman, ~290 KB) is a lazy import() chunk loaded only when a
// company edits its area; geoman.css is its own file. Leaflet's images are
// emitted as hashed files and favicon.svg is copied. Source maps are linked.
//
// Every text file gets precompressed siblings (.br at brotli quality 11, .gz at
// gzip level 9) that the server sends as they are: 35–40 % smaller than
// compressing on the fly at its fast level.
//
// The output is deterministic: same sources + same locked esbuild version
// give byte-identical files (no timestamps, hashed asset names, stable paths).
// dist/ is emptied first (except .keep, which keeps go:embed valid on a fresh
// clone) so stale files never end up embedded.

import { build } from 'esbuild';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zc, gzipSync } from 'node:zlib';

const root = dirname(fileURLToPath(import.meta.url));
const src = join(root, 'src');
const dist = join(root, 'dist');
/** Files copied verbatim from src/ to dist/. */
const STATIC_FILES = ['index.html', 'favicon.svg'];
/** Served files worth compressing (source maps are for developers: compressed on the fly). */
const COMPRESSIBLE = /\.(html|js|css|svg|json)$/;

/** Writes name.br and name.gz beside every compressible file of dist/. */
async function precompress() {
  const sizes = [];
  for (const name of (await readdir(dist)).sort()) {
    if (!COMPRESSIBLE.test(name)) continue;
    const body = await readFile(join(dist, name));
    const br = brotliCompressSync(body, {
      params: { [zc.BROTLI_PARAM_QUALITY]: 11, [zc.BROTLI_PARAM_SIZE_HINT]: body.length, [zc.BROTLI_PARAM_MODE]: zc.BROTLI_MODE_TEXT },
    });
    const gz = gzipSync(body, { level: 9 }); // node writes mtime 0: deterministic
    await writeFile(join(dist, name + '.br'), br);
    await writeFile(join(dist, name + '.gz'), gz);
    sizes.push(`  dist/${name.padEnd(38)} ${String(body.length).padStart(9)} B  br ${String(br.length).padStart(7)}  gz ${String(gz.length).padStart(7)}`);
  }
  return sizes;
}

async function cleanDist() {
  await mkdir(dist, { recursive: true });
  for (const name of await readdir(dist)) {
    if (name === '.keep') continue;
    await rm(join(dist, name), { recursive: true, force: true });
  }
}

/** Options shared by both bundles. */
const COMMON = {
  absWorkingDir: root,
  outdir: 'dist',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15', 'edge100'],
  minify: true,
  sourcemap: 'linked',
  // Leaflet's CSS references a few PNGs; emit them as hashed files in dist/.
  loader: { '.png': 'file', '.svg': 'file' },
  assetNames: '[name]-[hash]',
  entryNames: '[name]',
  legalComments: 'eof',
  charset: 'utf8',
  logLevel: 'warning',
  metafile: true,
};

/** body of a file, checked to be safe to put between <tag> and </tag>. */
async function inlineable(file, tag) {
  const text = (await readFile(join(dist, file), 'utf8')).trimEnd();
  if (new RegExp(`</${tag}`, 'i').test(text) || text.includes('<!--')) {
    throw new Error(`dist/${file}: contains "</${tag}" or "<!--", cannot be inlined into index.html`);
  }
  return text;
}

async function main() {
  await cleanDist();

  const result = await build({
    ...COMMON,
    // geoman.css is linked by src/area-editor.js only when a company edits its area.
    entryPoints: { app: 'src/app.js', geoman: '@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css' },
    // Lazy import() (the area editor) becomes its own chunk; Leaflet, which both
    // use, a shared one.
    splitting: true,
    chunkNames: 'chunk-[hash]',
  });

  for (const name of STATIC_FILES) await copyFile(join(src, name), join(dist, name));

  // The chunks app.js imports statically (Leaflet): without a hint the browser
  // would find them only when it compiles the inline module.
  const chunks = (result.metafile.outputs['dist/app.js']?.imports || [])
    .filter((i) => i.kind === 'import-statement' && !i.external)
    .map((i) => i.path.replace(/^dist\//, ''))
    .sort();
  const indexPath = join(dist, 'index.html');
  let html = await readFile(indexPath, 'utf8');
  const tag = '<script type="module" src="app.js"></script>';
  const css = '<link rel="stylesheet" href="app.css">';
  const hint = '<!-- modulepreload -->';
  for (const t of [tag, css, hint]) if (!html.includes(t)) throw new Error(`src/index.html: ${t} not found (replaced by the build)`);
  const js = await inlineable('app.js', 'script');
  const style = await inlineable('app.css', 'style');
  // The inline module resolves "./chunk-….js" against the page URL: same files.
  for (const c of chunks) if (!js.includes(`"./${c}"`)) throw new Error(`dist/app.js: import of ./${c} not found`);
  // Function replacements: the bundle may contain "$&"-like sequences.
  html = html
    .replace(hint, () => chunks.map((c) => `<link rel="modulepreload" href="${c}">`).join('\n  '))
    .replace(css, () => `<style>${style}</style>`)
    .replace(tag, () => `<script type="module" data-bundle="app.js">${js}</script>`);
  await writeFile(indexPath, html);
  // Only the inline copies are served; the maps stay for developers.
  await rm(join(dist, 'app.js'));
  await rm(join(dist, 'app.css'));
  const compressed = await precompress();

  const outputs = Object.entries(result.metafile.outputs)
    .map(([file, info]) => `  ${file.padEnd(40)} ${String(info.bytes).padStart(9)} B${/dist\/app\.(js|css)$/.test(file) ? '  (inlined into index.html)' : ''}`)
    .sort();
  const copied = STATIC_FILES.map((f) => `  dist/${f}`).join('\n');
  console.log(`built ${outputs.length + STATIC_FILES.length} files:\n${outputs.join('\n')}\n${copied}\nprecompressed:\n${compressed.join('\n')}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
