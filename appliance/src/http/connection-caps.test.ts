import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionCaps, serverTimeouts } from './connection-caps.js';

let server: net.Server | undefined;
const sockets: net.Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
});

describe('connection caps', () => {
  it('closes connections from one address past the cap, and admits more once some close', async () => {
    const warnings: string[] = [];
    const caps = new ConnectionCaps(3, (line) => warnings.push(line));
    server = net.createServer(() => undefined);
    caps.watch(server);
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const closed = new Set<number>();
    const connect = (i: number) =>
      new Promise<void>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => resolve());
        s.on('close', () => closed.add(i));
        s.on('error', () => resolve());
        sockets.push(s);
      });
    for (let i = 0; i < 5; i++) await connect(i);
    await expect.poll(() => [...closed].sort()).toEqual([3, 4]);
    expect(caps.count('127.0.0.1')).toBe(3);
    expect(caps.refused).toBe(2);
    expect(warnings).toHaveLength(1); // once a minute at most
    sockets[0]!.destroy();
    await expect.poll(() => caps.count('127.0.0.1')).toBe(2);
    await connect(5);
    await new Promise((r) => setTimeout(r, 50));
    expect(closed.has(5)).toBe(false);
  });

  it('checks the headers timeout often enough to close a slow socket soon after it', () => {
    expect(serverTimeouts({ perAddress: 1, headersTimeoutMs: 10_000 })).toEqual({
      headersTimeout: 10_000,
      connectionsCheckingInterval: 2_500,
      handshakeTimeout: 10_000,
    });
  });
});
