/**
 * Multi-row statements in slices: a pass may hold tens of thousands of rows, and Postgres takes at most
 * 65,535 parameters in one statement.
 */

/** Rows per multi-row insert, well below Postgres's 65,535 parameters. */
const ROWS_PER_INSERT = 2_000;

/** `rows` in slices of at most `size`, in order. */
export function slices<T>(rows: readonly T[], size = ROWS_PER_INSERT): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}
