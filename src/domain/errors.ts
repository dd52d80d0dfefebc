// Two families of errors whose answer is known, each with a `code` (what kind), a message a
// person can act on, and its `cause`:
// - PermanentError: the same request fails the same way again (bad input, a state the verb does
//   not apply to, something that does not exist, a refusal). The CLI exits 2 on these.
// - RetryableError: it may work later (a dependency down, an upstream that did not answer). The
//   CLI exits 1.
// HTTP statuses are chosen from the code in src/http only (statusOf in http/server.ts).

export type PermanentCode = 'invalid' | 'not_found' | 'conflict' | 'forbidden' | 'unauthorized';
export type RetryableCode = 'unavailable' | 'upstream';

export class PermanentError extends Error {
  readonly code: PermanentCode;
  constructor(code: PermanentCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

export class RetryableError extends Error {
  readonly code: RetryableCode;
  constructor(code: RetryableCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}
