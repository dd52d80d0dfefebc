// PostgreSQL COPY text format: tab-separated, \N for null, backslash escapes.
export function copyField(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return '\\N';
  return String(v).replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!);
}

export function copyLine(fields: Array<string | number | null | undefined>): string {
  return fields.map(copyField).join('\t') + '\n';
}
