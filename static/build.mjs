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
import { copyFile, mkdir, readdir, rm } from 'node:fs/promises';
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
    entryPoints: { app: 'src/app.js' },
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
  });

  for (const name of STATIC_FILES) await copyFile(join(src, name), join(dist, name));

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
