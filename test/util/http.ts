// A static HTTP server on 127.0.0.1 (ephemeral port) for the download tests: never the network.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestServer { url: string; requests: string[]; close(): Promise<void> }

/** Serves each path ('/mirror/a.gz') with its bytes, anything else as a 404; records every request. */
export async function serveFiles(files: Record<string, Uint8Array>): Promise<TestServer> {
  const bodies = new Map(Object.entries(files)), requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url!);
    const body = bodies.get(req.url!);
    if (body) res.writeHead(200, { 'content-length': body.length }).end(body);
    else res.writeHead(404).end('not found');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`, requests,
    close: () => new Promise((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}

/**
 * A server that accepts connections and never answers (`sendFirst`: it sends the status line,
 * headers and these bytes of a larger body, then goes silent): for the download timeouts.
 */
export async function serveSilence(sendFirst?: Uint8Array): Promise<TestServer> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url!);
    if (sendFirst) {
      res.writeHead(200, { 'content-length': sendFirst.length * 10 });
      res.write(sendFirst);
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`, requests,
    close: () => new Promise((ok) => { server.closeAllConnections(); server.close(() => ok()); }),
  };
}
