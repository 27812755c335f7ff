/** Summary statistics of samples, and the plain-text table the benchmark prints. */

/** The p-th percentile (0–100), interpolated linearly between the two nearest samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const position = ((sorted.length - 1) * p) / 100;
  const below = Math.floor(position);
  const lower = sorted[below] ?? Number.NaN;
  const upper = sorted[Math.min(below + 1, sorted.length - 1)] ?? lower;
  return lower + (upper - lower) * (position - below);
}

export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}

export interface TableRow {
  benchmark: string;
  measured: string;
  baseline: string;
  ratio: string;
  target: string;
  met: string;
}

const COLUMNS: { key: keyof TableRow; title: string }[] = [
  { key: 'benchmark', title: 'benchmark' },
  { key: 'measured', title: 'measured' },
  { key: 'baseline', title: 'baseline' },
  { key: 'ratio', title: 'ratio' },
  { key: 'target', title: 'target' },
  { key: 'met', title: 'met' },
];

export function renderTable(rows: readonly TableRow[]): string {
  const widths = COLUMNS.map(({ key, title }) =>
    Math.max(title.length, ...rows.map((row) => row[key].length)),
  );
  const line = (cells: string[]): string =>
    cells
      .map((cell, index) => cell.padEnd(widths[index] ?? 0))
      .join('  ')
      .trimEnd();
  return [
    line(COLUMNS.map(({ title }) => title)),
    line(widths.map((width) => '-'.repeat(width))),
    ...rows.map((row) => line(COLUMNS.map(({ key }) => row[key]))),
  ].join('\n');
}

export const ms = (value: number): string => `${value.toFixed(0)} ms`;
export const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
export const times = (value: number): string => `${value.toFixed(2)}x`;

/** "yes", or "no" with how far the measurement is from the target. */
export function verdict(met: boolean, measured: number, target: number): string {
  return met ? 'yes' : `no (${times(measured / target)} the target)`;
}
