#!/usr/bin/env node
// The size rules of STYLE.md (Layout), checked over the source files of every workspace package and app
// (tests, migrations, declaration files and builds aside): no function over MAX_FUNCTION_LINES lines and
// no file over MAX_FILE_LINES lines, apart from the few EXCEPTIONS below, each with its reason. A
// function's length runs from the line it starts on to the line it ends on, nested functions included
// (a route registration counts its handlers). Run by `npm run lint`; prints every breach and exits 1.
//
//   node scripts/check-size.mjs            check
//   node scripts/check-size.mjs --report          also print the longest functions and files
//   node scripts/check-size.mjs --report <path>   the same, of the files under <path> only
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MAX_FUNCTION_LINES = 60;
const MAX_FILE_LINES = 400;
const REPORT_TOP = 25;

/**
 * Functions allowed over the limit: "path#name" -> why. At most three; a fourth means the rule or the
 * code needs a second look, not a longer list.
 */
const EXCEPTIONS = new Map([
  [
    'packages/sdk/src/device-id-client.ts#createDeviceIdClient',
    'a closure factory: its state lives in closed-over variables the minifier renames, where split helpers would pass them as object properties it cannot (bytes under the size budget)',
  ],
  [
    'packages/sdk/src/pageview-queue.ts#createPageviewQueue',
    'a closure factory: its state lives in closed-over variables the minifier renames, where split helpers would pass them as object properties it cannot (bytes under the size budget)',
  ],
  [
    'packages/sdk/src/device-link.ts#createDeviceLink',
    'a closure factory: its state lives in closed-over variables the minifier renames, where split helpers would pass them as object properties it cannot (bytes under the size budget)',
  ],
]);
if (EXCEPTIONS.size > 3) throw new Error('check-size: at most three exceptions (see EXCEPTIONS)');

const SOURCE = /\.(ts|tsx|mts|cts|js|mjs)$/;
const SKIPPED_FILE = /\.test\.[a-z]+$|\.d\.[mc]?ts$/;
const SKIPPED_DIR = new Set(['node_modules', 'dist', 'migrations', 'test', '__tests__']);

const projects = ['packages', 'apps'].flatMap((group) =>
  readdirSync(join(root, group))
    .map((name) => join(group, name))
    .filter((dir) => existsSync(join(root, dir, 'package.json'))),
);

function* sourceFiles(dir) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) {
      if (!SKIPPED_DIR.has(entry)) yield* sourceFiles(path);
    } else if (SOURCE.test(entry) && !SKIPPED_FILE.test(entry)) yield path;
  }
}

/** The name a reader would search for: the declaration's, or what it is assigned to. */
function nameOf(node) {
  if (node.name && ts.isIdentifier(node.name)) return node.name.text;
  if (node.name) return node.name.getText();
  const parent = node.parent;
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  if (parent && ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text;
  if (parent && ts.isPropertyAssignment(parent)) return parent.name.getText();
  if (parent && ts.isCallExpression(parent)) {
    const callee = parent.expression.getText();
    return `(callback of ${callee.length > 40 ? `${callee.slice(0, 40)}…` : callee})`;
  }
  return '(anonymous)';
}

function isFunction(node) {
  return (
    ts.isFunctionDeclaration(node) ||
    ts.isFunctionExpression(node) ||
    ts.isArrowFunction(node) ||
    ts.isMethodDeclaration(node) ||
    ts.isConstructorDeclaration(node) ||
    ts.isGetAccessorDeclaration(node) ||
    ts.isSetAccessorDeclaration(node)
  );
}

const functions = [];
const files = [];
for (const dir of projects) {
  for (const file of sourceFiles(join(root, dir, 'src'))) {
    const path = relative(root, file);
    const text = readFileSync(file, 'utf8');
    const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const lineOf = (pos) => source.getLineAndCharacterOfPosition(pos).line;
    files.push({ path, lines: text.split('\n').length - (text.endsWith('\n') ? 1 : 0) });
    const visit = (node) => {
      if (isFunction(node) && node.body) {
        const lines = lineOf(node.getEnd()) - lineOf(node.getStart(source)) + 1;
        functions.push({ path, name: nameOf(node), line: lineOf(node.getStart(source)) + 1, lines });
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
}

const problems = [];
const usedExceptions = new Set();
for (const f of functions) {
  if (f.lines <= MAX_FUNCTION_LINES) continue;
  const key = `${f.path}#${f.name}`;
  if (EXCEPTIONS.has(key)) usedExceptions.add(key);
  else problems.push(`${f.path}:${f.line} ${f.name}: ${f.lines} lines (limit ${MAX_FUNCTION_LINES})`);
}
for (const f of files) {
  if (f.lines > MAX_FILE_LINES) problems.push(`${f.path}: ${f.lines} lines (limit ${MAX_FILE_LINES})`);
}
for (const key of EXCEPTIONS.keys()) {
  if (!usedExceptions.has(key))
    problems.push(`${key}: listed as an exception but within the limit (or gone)`);
}

const reportAt = process.argv.indexOf('--report');
if (reportAt !== -1) {
  const under = process.argv[reportAt + 1]?.replace(/\/$/, '') ?? '';
  const inScope = (f) => under === '' || f.path === under || f.path.startsWith(`${under}/`);
  const shownFunctions = functions.filter(inScope);
  const shownFiles = files.filter(inScope);
  const where = under === '' ? '' : ` under ${under}`;
  const over = shownFunctions.filter((f) => f.lines > MAX_FUNCTION_LINES).length;
  console.log(
    `longest functions${where} (${over} of ${shownFunctions.length} over ${MAX_FUNCTION_LINES} lines):`,
  );
  for (const f of [...shownFunctions].sort((a, b) => b.lines - a.lines).slice(0, REPORT_TOP)) {
    console.log(`  ${String(f.lines).padStart(4)}  ${f.path}:${f.line} ${f.name}`);
  }
  const overFiles = shownFiles.filter((f) => f.lines > MAX_FILE_LINES).length;
  console.log(`longest files${where} (${overFiles} of ${shownFiles.length} over ${MAX_FILE_LINES} lines):`);
  for (const f of [...shownFiles].sort((a, b) => b.lines - a.lines).slice(0, 10)) {
    console.log(`  ${String(f.lines).padStart(4)}  ${f.path}`);
  }
}
if (problems.length > 0) {
  console.error(`check-size: ${problems.length} function(s) or file(s) over the limits (STYLE.md, Layout):`);
  for (const p of problems) console.error(`  ${p}`);
  process.exit(1);
}
console.log(
  `check-size: ${files.length} source files, no function over ${MAX_FUNCTION_LINES} lines, no file over ${MAX_FILE_LINES} (${usedExceptions.size} listed exceptions)`,
);
