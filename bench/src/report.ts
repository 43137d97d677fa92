/**
 * Results: one JSON file per benchmark (with the machine and the mode), in `bench/out/` (untracked) or,
 * with `--record`, in `bench/results/` (the committed figures), and the tables printed to the terminal.
 * A target is a measured figure beside its limit, marked met or missed.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';

/** Where `--record` writes: the committed figures the READMEs quote. */
export const RECORDED_DIR = join(import.meta.dirname, '..', 'results');
/** Where a run writes otherwise (git-ignored), so a trial run never touches the committed figures. */
export const SCRATCH_DIR = join(import.meta.dirname, '..', 'out');

/** The machine a run was measured on. */
export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  redis: string | null;
  postgres: string | null;
  date: string;
  /** The commit measured (`git rev-parse HEAD`), and whether the sources had uncommitted changes. */
  commit: string | null;
  dirty: boolean;
}

/** Reads the CPU model and core count, Node's version and the date; service versions are filled later. */
export function describeMachine(): Machine {
  const list = cpus();
  let model = list[0]?.model?.trim() ?? 'unknown';
  // Virtual machines often report a bare family name ("AMD EPYC"); lscpu sometimes knows more.
  try {
    const lscpu = execFileSync('lscpu', { encoding: 'utf8' });
    const m = /Model name:\s*(.+)/.exec(lscpu);
    if (m?.[1] && m[1].trim().length > model.length) model = m[1].trim();
  } catch {
    // lscpu is optional.
  }
  return {
    cpuModel: model,
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    redis: null,
    postgres: null,
    date: new Date().toISOString(),
    ...measuredCommit(),
  };
}

/** The commit a run measures; figures recorded with uncommitted source changes say so. */
function measuredCommit(): { commit: string | null; dirty: boolean } {
  try {
    const repo = join(import.meta.dirname, '..', '..');
    const git = (...args: string[]) =>
      execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();
    const dirty = git('status', '--porcelain', '--', 'packages', 'apps', 'bench/src') !== '';
    return { commit: git('rev-parse', 'HEAD'), dirty };
  } catch {
    return { commit: null, dirty: false };
  }
}

/** One target (bench/README.md, Targets): a figure, its limit and whether it was met. */
export interface Target {
  name: string;
  /** The measured value as shown (with unit). */
  measured: string;
  /** The limit as shown, e.g. "≥ 50%". */
  limit: string;
  met: boolean | null;
  /** Why it could not be judged, or context. */
  note?: string;
}

/** What a benchmark hands back to the runner. */
export interface SectionResult {
  name: string;
  title: string;
  /** Machine-readable figures (written to JSON as they are). */
  figures: Record<string, unknown>;
  /** Rows of the printed table. */
  rows: Record<string, string | number>[];
  targets: Target[];
  notes: string[];
  seconds: number;
}

/** Rounds for display: 3 significant digits below 100, whole numbers above. */
export function fmt(n: number | null | undefined, digits = 3): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return 'n/a';
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US');
  return Number(n.toPrecision(digits)).toString();
}

/** Percentage with one decimal. */
export function pct(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return 'n/a';
  return `${(ratio * 100).toFixed(1)}%`;
}

/** A target row; `met` is null when the figure could not be measured. */
export function target(
  name: string,
  value: number | null,
  limit: number,
  unit: string,
  op: '<=' | '>=' | '<',
) {
  const shown =
    op === '>=' ? `≥ ${fmt(limit)}${unit}` : op === '<' ? `< ${fmt(limit)}${unit}` : `≤ ${fmt(limit)}${unit}`;
  const met =
    value === null || !Number.isFinite(value)
      ? null
      : op === '>='
        ? value >= limit
        : op === '<'
          ? value < limit
          : value <= limit;
  return {
    name,
    measured: value === null ? 'n/a' : `${fmt(value)}${unit}`,
    limit: shown,
    met,
  } satisfies Target;
}

/** Prints rows as an aligned text table. */
export function printTable(rows: Record<string, string | number>[]): void {
  if (rows.length === 0) return;
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => (v === undefined ? '' : typeof v === 'number' ? fmt(v) : String(v));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) =>
    values.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  console.log(line(columns));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(columns.map((c) => cell(r[c]))));
}

/** Prints targets with met / MISSED marks. */
export function printTargets(targets: Target[]): void {
  printTable(
    targets.map((t) => ({
      target: t.name,
      measured: t.measured,
      limit: t.limit,
      result: t.met === null ? 'not measured' : t.met ? 'met' : 'MISSED',
      ...(t.note ? { note: t.note } : {}),
    })),
  );
}

/** Prints one section: title, table, targets and notes. */
export function printSection(section: SectionResult): void {
  console.log(`\n== ${section.title} (${section.seconds.toFixed(1)} s)`);
  printTable(section.rows);
  if (section.targets.length > 0) {
    console.log('');
    printTargets(section.targets);
  }
  for (const note of section.notes) console.log(`  note: ${note}`);
}

/** Writes `<dir>/<name>.json`. */
export function writeResult(dir: string, name: string, content: Record<string, unknown>): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.json`);
  // Other jobs on a shared machine move every figure: the load averages (1, 5 and 15 minutes) when the
  // step ended go with its machine, so the READMEs can say under what load it was measured.
  const machine =
    content.machine && typeof content.machine === 'object'
      ? { ...content.machine, loadAverage: loadavg().map((n) => Math.round(n * 100) / 100) }
      : content.machine;
  writeFileSync(path, `${JSON.stringify({ ...content, machine }, null, 2)}\n`);
  return path;
}
