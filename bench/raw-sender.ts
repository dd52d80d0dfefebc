// The baseline sender: a raw nodemailer pool (the same adapter the workers use) sending the same
// message to the same sink, as fast as it goes. One process; the benchmark starts as many as it
// starts workers. Prints the milliseconds it took.
//   node bench/raw-sender.ts SMTP_URL COUNT POOL IN_FLIGHT OFFSET
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { makeSmtpTransport } from '../src/channels/email/smtp.ts';
import { root } from './bench-env.ts';

const [url, count, pool, inFlight, offset] = process.argv.slice(2);
const total = Number(count);
const html = readFileSync(path.join(root, 'templates/demo/card.ja.html'), 'utf8').replaceAll('{{name}}', '山田 太郎').replaceAll('{{notice_code}}', 'ABCD-EFGH-JKMN');
const text = readFileSync(path.join(root, 'templates/demo/card.ja.txt'), 'utf8').replaceAll('{{name}}', '山田 太郎').replaceAll('{{notice_code}}', 'ABCD-EFGH-JKMN');
const transport = makeSmtpTransport({ url, poolSize: Number(pool), timeoutMs: 30_000 });
let next = 0;
const t0 = performance.now();
await Promise.all(Array.from({ length: Number(inFlight) }, async () => {
  while (next < total) {
    const k = Number(offset) + next++;
    await transport.send({
      from: 'Incident Response <notice@example.com>', to: { name: '山田 太郎', address: `raw${k}@example.com` }, returnPath: `bounce+${k}.0000000000000000@bounce.example.com`,
      subject: '【重要】お詫びとお知らせ', html, text, messageId: `<raw-${k}@example.com>`, headers: { 'X-Notice-Id': String(k), 'Auto-Submitted': 'auto-generated' },
    });
  }
}));
process.stdout.write(`${Math.round(performance.now() - t0)}\n`);
await transport.close();
