// CSV cells a spreadsheet will not execute: a leading = + - @ (or tab/CR) is prefixed with '.
export function neutralise(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}
