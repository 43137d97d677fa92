#!/usr/bin/env node
// A package's `prepack`: refuses to pack when a file its `exports` map names is missing or empty (a
// package packed before its build would install and then fail at import). `npm run pack` at the root
// builds first.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.cwd();
const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));

/** Every file path an exports map names (conditions nest). */
function targets(node) {
  if (typeof node === 'string') return [node];
  if (node && typeof node === 'object') return Object.values(node).flatMap(targets);
  return [];
}

const missing = [...new Set(targets(pkg.exports))]
  .filter((file) => file !== './package.json')
  .filter((file) => !existsSync(join(dir, file)) || statSync(join(dir, file)).size === 0);
if (missing.length > 0) {
  console.error(
    `${pkg.name}: refusing to pack without its build (${missing.join(', ')} missing or empty). ` +
      'Run `npm run pack` at the repository root: it installs, builds and packs.',
  );
  process.exit(1);
}
