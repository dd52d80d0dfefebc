// An error whose answer is known: a message a person can act on, and the HTTP status it maps to.
// The server answers any of them with that status; the CLI says the message in one line.

export class StatusError extends Error {
  readonly statusCode: number;
  constructor(statusCode: number, message: string, name: string) {
    super(message);
    this.name = name;
    this.statusCode = statusCode;
  }
}
