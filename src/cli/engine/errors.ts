/** An error's message followed by the messages of its causes, for one-line reports. */
export function describeError(error: unknown): string {
  const parts: string[] = [];
  for (let current = error; current !== undefined; ) {
    parts.push(current instanceof Error ? current.message : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return parts.join(': ');
}
