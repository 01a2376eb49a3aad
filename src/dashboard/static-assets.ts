import { existsSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

// The dashboard's files: the page and its styles (src/dashboard/ui, served as they are), its
// scripts (TypeScript in src/dashboard/ui compiled to ES modules in dist/src/dashboard/ui by
// `npm run build`: no bundler) and the two libraries it uses, straight from node_modules (the
// machine may be offline: no CDN). Read once, kept in memory.

const here = dirname(fileURLToPath(import.meta.url));
/** index.html and style.css: src/dashboard/ui, found from dist/src/dashboard (the build). */
const UI_DIR = [join(here, 'ui'), join(here, '..', '..', '..', 'src', 'dashboard', 'ui')].find((d) => existsSync(join(d, 'index.html')))!;
/** The compiled scripts: dist/src/dashboard/ui, next to this file once built. */
const SCRIPT_DIR = join(here, 'ui');
const require = createRequire(import.meta.url);
/** The package's dist directory: both libraries' main file sits there (their exports hide package.json). */
const distDir = (name: string) => dirname(require.resolve(name));

const VENDOR: Record<string, () => string> = {
  'cytoscape.js': () => join(distDir('cytoscape'), 'cytoscape.esm.min.mjs'),
  'uplot.js': () => join(distDir('uplot'), 'uPlot.esm.js'),
  'uplot.css': () => join(distDir('uplot'), 'uPlot.min.css'),
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json; charset=utf-8',
};

const cache = new Map<string, { body: Buffer; type: string }>();

function load(file: string, type: string): { body: Buffer; type: string } | undefined {
  let hit = cache.get(file);
  if (!hit && existsSync(file)) cache.set(file, (hit = { body: readFileSync(file), type }));
  return hit;
}

/** The file behind a `/ui/...` path, or undefined. Paths cannot leave the UI directory. */
function resolveAsset(path: string): { body: Buffer; type: string } | undefined {
  const rel = path.replace(/^\/ui\/?/, '') || 'index.html';
  if (rel.startsWith('vendor/')) {
    const make = VENDOR[rel.slice('vendor/'.length)];
    return make ? load(make(), TYPES[extname(rel)]) : undefined;
  }
  const dir = extname(rel) === '.js' || extname(rel) === '.map' ? SCRIPT_DIR : UI_DIR;
  const file = normalize(join(dir, rel));
  if (!file.startsWith(dir + sep)) return undefined;
  const type = TYPES[extname(file)];
  return type ? load(file, type) : undefined;
}

/** Serves `/` (a redirect) and `/ui/...`; false for any other path. */
export function serveStatic(path: string, res: ServerResponse): boolean {
  if (path === '/' || path === '/ui') {
    res.writeHead(302, { location: '/ui/' });
    res.end();
    return true;
  }
  if (!path.startsWith('/ui/')) return false;
  const asset = resolveAsset(path);
  if (!asset) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`not found: ${path}\n`);
    return true;
  }
  // Pages of the UI are routed client side (#/graph, #/incidents/...): one HTML file.
  res.writeHead(200, { 'content-type': asset.type, 'content-length': asset.body.length, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
  res.end(asset.body);
  return true;
}
