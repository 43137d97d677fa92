#!/usr/bin/env node
// The import rules of STYLE.md (Layout), checked over the source files (tests aside) of every workspace
// package and app: the protocol at the bottom imports nothing of ours; the SDK, the plugin and the
// persister import the protocol only; the apps sit on top and nothing imports an app; no file reaches
// into another package's folder; and the folders of `apps/collector/src` import each other one way
// (no cycle). Run by `npm run lint`; prints every broken rule and exits 1.
//
//   node scripts/check-imports.mjs            check
//   node scripts/check-imports.mjs --report   also print the folder graph of apps/collector/src
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** What each package may import of ours (apps: see `isApp`). */
const ALLOWED = {
  '@devicelink/protocol': [],
  '@devicelink/sdk': ['@devicelink/protocol'],
  '@devicelink/fastify': ['@devicelink/protocol'],
  '@devicelink/persister': ['@devicelink/protocol'],
  '@devicelink/test-env': ['@devicelink/protocol'],
};
/** The app whose folders must not import each other in a circle. */
const FOLDER_CHECKED = 'apps/collector/src';
const SOURCE = /\.(ts|tsx|mts|cts|js|mjs)$/;
const TEST = /\.test\.[a-z]+$|\.d\.ts$/;

const projects = ['packages', 'apps'].flatMap((group) =>
  readdirSync(join(root, group))
    .map((name) => join(group, name))
    .filter((dir) => existsSync(join(root, dir, 'package.json')))
    .map((dir) => ({
      dir,
      name: JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')).name,
      isApp: dir.startsWith('apps/'),
    })),
);
const byName = new Map(projects.map((p) => [p.name, p]));

function* sourceFiles(dir) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) yield* sourceFiles(path);
    else if (SOURCE.test(entry) && !TEST.test(entry)) yield path;
  }
}

/** Every module specifier of a file: static and dynamic imports, re-exports, `require`. */
function specifiers(file) {
  return ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles.map((f) => f.fileName);
}

const problems = [];
/** Folder edges of FOLDER_CHECKED: from -> to -> an example "file -> specifier". */
const folderEdges = new Map();

for (const project of projects) {
  const src = join(root, project.dir, 'src');
  for (const file of sourceFiles(src)) {
    const where = relative(root, file);
    for (const spec of specifiers(file)) {
      const ours = /^(@devicelink\/[^/]+)/.exec(spec)?.[1];
      if (ours) {
        const target = byName.get(ours);
        if (ours === project.name) problems.push(`${where}: imports its own package by name (${spec})`);
        else if (target?.isApp) problems.push(`${where}: imports the app ${ours}; nothing may import an app`);
        else if (!project.isApp && !(ALLOWED[project.name] ?? []).includes(ours)) {
          const allowed = (ALLOWED[project.name] ?? []).join(', ') || 'nothing of ours';
          problems.push(`${where}: imports ${ours}; ${project.name} may import ${allowed}`);
        }
        continue;
      }
      if (!spec.startsWith('.')) continue;
      const resolved = resolve(dirname(file), spec);
      if (!resolved.startsWith(join(root, project.dir) + sep)) {
        problems.push(`${where}: reaches outside its package (${spec}); import the package by name`);
        continue;
      }
      const checked = join(root, FOLDER_CHECKED);
      if (file.startsWith(checked + sep) && resolved.startsWith(checked + sep)) {
        const from = folderOf(relative(checked, file));
        const to = folderOf(relative(checked, resolved));
        if (from !== to) {
          if (!folderEdges.has(from)) folderEdges.set(from, new Map());
          const edges = folderEdges.get(from);
          if (!edges.has(to)) edges.set(to, `${where} -> ${spec}`);
        }
      }
    }
  }
}

/** The top folder of a path inside FOLDER_CHECKED ('.' for its root files). */
function folderOf(path) {
  const parts = path.split(sep);
  return parts.length > 1 ? parts[0] : '.';
}

/** Strongly connected components with more than one folder (Tarjan). */
function cycles(graph) {
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  let next = 0;
  const visit = (v) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) === index.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

for (const component of cycles(folderEdges)) {
  const edges = component.flatMap((from) =>
    [...(folderEdges.get(from) ?? [])]
      .filter(([to]) => component.includes(to))
      .map(([to, example]) => `    ${from}/ -> ${to}/ (e.g. ${example})`),
  );
  problems.push(
    `${FOLDER_CHECKED}: folders import each other in a circle: ${component.join(', ')}\n${edges.join('\n')}`,
  );
}

if (process.argv.includes('--report')) {
  console.log(`folder imports of ${FOLDER_CHECKED}:`);
  for (const [from, edges] of [...folderEdges].sort())
    console.log(`  ${from}/ -> ${[...edges.keys()].sort().join(', ')}`);
  console.log(`folder cycles: ${cycles(folderEdges).length}`);
}
if (problems.length > 0) {
  console.error(`check-imports: ${problems.length} broken import rule(s) (STYLE.md, Layout):`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log(
  `check-imports: ${projects.length} packages and apps follow the layering; no folder cycle in ${FOLDER_CHECKED}`,
);
