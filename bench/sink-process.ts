// The SMTP sink in a process of its own, so that senders are measured without it on their core.
import { startSmtpSink } from '../src/cli/smtp-sink.ts';

const sink = await startSmtpSink();
process.stdout.write(`${sink.url}\n`);
process.on('SIGTERM', () => {
  void sink.close().then(() => process.exit(0));
});
