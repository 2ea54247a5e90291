// Build script for the Sinergi web front-end.
//
//   npm run build          (from static/)
//
// Bundles src/app.js (and the CSS it imports, including Leaflet's) with
// esbuild into dist/app.js + dist/app.css with linked source maps, emits the
// images referenced by Leaflet's CSS as content-hashed files next to them, and
// copies src/index.html (and favicon.svg) to dist/. dist/ is embedded into the Go
// binary by embed.go.
//
// The output is deterministic: same sources + same locked esbuild version
// give byte-identical files (no timestamps, hashed asset names, stable paths).
// dist/ is emptied first (except .keep, which keeps go:embed valid on a fresh
// clone) so stale files never end up embedded.

import { build } from 'esbuild';
import { copyFile, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const src = join(root, 'src');
const dist = join(root, 'dist');
/** Files copied verbatim from src/ to dist/. */
const STATIC_FILES = ['index.html', 'favicon.svg'];

async function cleanDist() {
  await mkdir(dist, { recursive: true });
  for (const name of await readdir(dist)) {
    if (name === '.keep') continue;
    await rm(join(dist, name), { recursive: true, force: true });
  }
}

async function main() {
  await cleanDist();

  const result = await build({
    absWorkingDir: root,
    // geoman.css is linked by src/area-editor.js only when a company edits its area.
    entryPoints: { app: 'src/app.js', geoman: '@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css' },
    outdir: 'dist',
    bundle: true,
    format: 'esm',
    // Lazy import() (the area editor) becomes its own chunk.
    splitting: true,
    chunkNames: 'chunk-[hash]',
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
  });

  for (const name of STATIC_FILES) await copyFile(join(src, name), join(dist, name));

  // app.js imports its shared chunks statically; without a hint the browser finds
  // them only after app.js arrived (one more round trip, ~0.6 s on slow 3G).
  const chunks = (result.metafile.outputs['dist/app.js']?.imports || [])
    .filter((i) => i.kind === 'import-statement' && !i.external)
    .map((i) => i.path.replace(/^dist\//, ''))
    .sort();
  const indexPath = join(dist, 'index.html');
  const html = await readFile(indexPath, 'utf8');
  const tag = '<script type="module" src="app.js"></script>';
  if (!html.includes(tag)) throw new Error(`src/index.html: ${tag} not found (needed for the chunk preloads)`);
  const preload = chunks.map((c) => `<link rel="modulepreload" href="${c}">\n  `).join('');
  await writeFile(indexPath, html.replace(tag, preload + tag));

  const outputs = Object.entries(result.metafile.outputs)
    .map(([file, info]) => `  ${file.padEnd(40)} ${String(info.bytes).padStart(9)} B`)
    .sort();
  const copied = STATIC_FILES.map((f) => `  dist/${f}`).join('\n');
  console.log(`built ${outputs.length + STATIC_FILES.length} files:\n${outputs.join('\n')}\n${copied}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
