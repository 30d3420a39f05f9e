// Fails the build when the JavaScript a browser loads before the first screen is over budget.
// First-load JavaScript is every script index.html references directly plus the modules it
// preloads; chunks loaded later (a page opened on demand) do not count.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const BUDGET_BYTES = 500 * 1024;
const dist = new URL('../dist/', import.meta.url).pathname;
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const scripts = new Set();
for (const match of html.matchAll(/<script[^>]+src="\/?([^"]+\.js)"/g)) scripts.add(match[1]);
for (const match of html.matchAll(/<link[^>]+rel="modulepreload"[^>]+href="\/?([^"]+\.js)"/g)) scripts.add(match[1]);
if (scripts.size === 0) {
  console.error('check-bundle-size: dist/index.html references no script; the build is broken');
  process.exit(1);
}
let total = 0;
for (const script of scripts) {
  const size = gzipSync(readFileSync(join(dist, script)), { level: 9 }).length;
  total += size;
  console.log(`check-bundle-size: ${script} ${(size / 1024).toFixed(1)} KB gzipped`);
}
const summary = `${(total / 1024).toFixed(1)} KB of ${BUDGET_BYTES / 1024} KB gzipped first-load JavaScript`;
if (total > BUDGET_BYTES) {
  console.error(`check-bundle-size: over budget: ${summary}; split a page out with React.lazy or drop a dependency`);
  process.exit(1);
}
console.log(`check-bundle-size: ${summary}`);
