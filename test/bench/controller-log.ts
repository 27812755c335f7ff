/**
 * Reading the controller's log file (pino JSON lines) back, to show what it complained about
 * while being measured. Secrets are redacted by the controller's logger before they get here.
 */
import fs from 'node:fs';

/** pino's level numbers: 40 warn, 50 error, 60 fatal. */
const WARN = 40;

/** Longest message shown per line; stacks and causes are left to the log itself. */
const MESSAGE_CHARS = 160;

interface LogLine {
  level?: number;
  msg?: string;
  err?: { message?: string };
}

function readLines(file: string): LogLine[] {
  const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const lines: LogLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch {
      // A line torn by an interrupted write says nothing we could count.
    }
  }
  return lines;
}

function describe(line: LogLine): string {
  // Container ids differ per occurrence; without them the same complaint counts as one.
  const text = [line.msg, line.err?.message]
    .filter(Boolean)
    .join(': ')
    .replace(/\b[0-9a-f]{64}\b/g, '<id>');
  return text.length > MESSAGE_CHARS ? `${text.slice(0, MESSAGE_CHARS)}…` : text;
}

/** Warnings and errors, counted by message, most frequent first: `count  message` lines. */
export function complaints(file: string): string[] {
  const counts = new Map<string, number>();
  for (const line of readLines(file)) {
    if ((line.level ?? 0) < WARN) continue;
    const key = `${(line.level ?? 0) >= 50 ? 'error' : 'warn'}  ${describe(line)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts]
    .sort(([, a], [, b]) => b - a)
    .map(([key, count]) => `${String(count).padStart(6)}  ${key}`);
}

/** The last `count` lines, shortened, for a run that failed. */
export function lastLines(file: string, count: number): string[] {
  return readLines(file).slice(-count).map(describe);
}
