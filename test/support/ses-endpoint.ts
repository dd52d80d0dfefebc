// A small HTTP server speaking the SES (v1, AWS Query) API: SendRawEmail only, enough for the
// real @aws-sdk/client-ses to talk to. It can throttle or refuse on demand.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

export interface SesEndpoint {
  url: string;
  sent: Array<{ id: string; source: string; destinations: string[]; raw: string }>;
  /** Answer the next N requests with this error instead of sending. */
  failNext: { count: number; code: string; message: string; status: number };
  requests: number;
  close(): Promise<void>;
}

const xml = (s: string) => s.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!);

export async function startSesEndpoint(): Promise<SesEndpoint> {
  const ep: SesEndpoint = { url: '', sent: [], failNext: { count: 0, code: '', message: '', status: 400 }, requests: 0, close: async () => {} };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      ep.requests++;
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      res.setHeader('content-type', 'text/xml');
      if (ep.failNext.count > 0) {
        ep.failNext.count--;
        res.statusCode = ep.failNext.status;
        res.end(`<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><Error><Type>Sender</Type><Code>${ep.failNext.code}</Code><Message>${xml(ep.failNext.message)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`);
        return;
      }
      if (form.get('Action') !== 'SendRawEmail') {
        res.statusCode = 400;
        res.end(`<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>only SendRawEmail</Message></Error><RequestId>x</RequestId></ErrorResponse>`);
        return;
      }
      const id = `0100${randomUUID().replace(/-/g, '')}-000000`;
      const destinations = [...form.entries()].filter(([k]) => k.startsWith('Destinations.member.')).map(([, v]) => v);
      ep.sent.push({ id, source: form.get('Source') ?? '', destinations, raw: Buffer.from(form.get('RawMessage.Data') ?? '', 'base64').toString('utf8') });
      res.end(`<SendRawEmailResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/"><SendRawEmailResult><MessageId>${id}</MessageId></SendRawEmailResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></SendRawEmailResponse>`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  ep.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  ep.close = () => new Promise((r) => server.close(() => r()));
  return ep;
}
