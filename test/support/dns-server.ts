// A small authoritative DNS server on 127.0.0.1 (UDP) for tests: answers A, MX and TXT from a
// table, NXDOMAIN for names it does not know, SERVFAIL for names marked so. Real packets, so the
// code under test uses node:dns's own resolver pointed at it. Stopped by close().
import { createSocket } from 'node:dgram';
import type { AddressInfo } from 'node:net';

export interface Zone {
  A?: string[];
  MX?: Array<{ priority: number; exchange: string }>;
  TXT?: string[];
  /** Answer SERVFAIL (a broken or unreachable authority: not a verdict on the domain). */
  servfail?: boolean;
}

const TYPES: Record<number, 'A' | 'MX' | 'TXT'> = { 1: 'A', 15: 'MX', 16: 'TXT' };

function readName(msg: Buffer, at: number): { name: string; end: number } {
  const labels: string[] = [];
  let i = at;
  while (msg[i] !== 0) {
    labels.push(msg.subarray(i + 1, i + 1 + msg[i]).toString('ascii'));
    i += msg[i] + 1;
  }
  return { name: labels.join('.').toLowerCase(), end: i + 1 };
}

function encodeName(name: string): Buffer {
  return Buffer.concat([...name.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')])), Buffer.from([0])]);
}

function rr(type: number, data: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0xc00c, 0); // the question's name
  head.writeUInt16BE(type, 2);
  head.writeUInt16BE(1, 4); // IN
  head.writeUInt32BE(60, 6); // TTL
  head.writeUInt16BE(data.length, 10);
  return Buffer.concat([head, data]);
}

export async function startDnsServer(zones: Record<string, Zone>): Promise<{ server: string; queries: string[]; close(): Promise<void> }> {
  const socket = createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (msg, from) => {
    const id = msg.readUInt16BE(0);
    const q = readName(msg, 12);
    const qtype = msg.readUInt16BE(q.end);
    const type = TYPES[qtype];
    queries.push(`${type ?? qtype} ${q.name}`);
    const zone = zones[q.name];
    let rcode = 0;
    const answers: Buffer[] = [];
    if (!zone) rcode = 3; // NXDOMAIN
    else if (zone.servfail) rcode = 2;
    else if (type === 'A') for (const a of zone.A ?? []) answers.push(rr(1, Buffer.from(a.split('.').map(Number))));
    else if (type === 'MX') for (const m of zone.MX ?? []) answers.push(rr(15, Buffer.concat([Buffer.from([m.priority >> 8, m.priority & 255]), encodeName(m.exchange)])));
    else if (type === 'TXT') for (const t of zone.TXT ?? []) {
      const parts: Buffer[] = [];
      for (let i = 0; i < t.length; i += 255) { const s = Buffer.from(t.slice(i, i + 255)); parts.push(Buffer.from([s.length]), s); }
      answers.push(rr(16, Buffer.concat(parts)));
    }
    const header = Buffer.alloc(12);
    header.writeUInt16BE(id, 0);
    header.writeUInt16BE(0x8400 | (msg.readUInt16BE(2) & 0x0100) | rcode, 2); // response, authoritative, RD copied
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    socket.send(Buffer.concat([header, msg.subarray(12, q.end + 4), ...answers]), from.port, from.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const port = (socket.address() as AddressInfo).port;
  return { server: `127.0.0.1:${port}`, queries, close: () => new Promise<void>((r) => socket.close(() => r())) };
}
