// The small HTTP server a worker answers Prometheus on: GET /metrics, nothing else. Several
// workers on one machine each take the first free port of a range (9464, 9465, …), so none of
// them fails to start because another holds the port; a worker that dies shows as a target down.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { listenError } from '../dependencies.ts';

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

function listen(server: http.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/** Listen on `port`, or on the first free one of `port … port + tries - 1`. */
export async function startMetricsServer(registry: Registry, o: { host: string; port: number; tries: number; setting: string }): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => res.writeHead(500).end('metrics failed\n'),
    );
  });
  let lastErr: unknown;
  for (let p = o.port; p < o.port + Math.max(1, o.tries); p++) {
    try {
      await listen(server, o.host, p);
      return { port: (server.address() as AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
    } catch (err) {
      lastErr = err;
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') break;
    }
  }
  throw listenError(lastErr, o.host, o.port, o.tries > 1 ? `${o.setting}, and the next ${o.tries - 1} ports` : o.setting);
}
