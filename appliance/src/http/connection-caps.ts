/**
 * Socket-level limits of a listening server: at most `perAddress` TCP connections open at once
 * from one network address (more are destroyed as they arrive, before any byte is read), and the
 * timeouts that close a connection which sends its headers (or TLS handshake) too slowly
 * (slowloris). Request bodies are held to a minimum rate elsewhere (upload-pace.ts).
 */
import type { Server as HttpServer, ServerOptions } from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';

export interface ConnectionLimits {
  perAddress: number;
  headersTimeoutMs: number;
}

/**
 * The node:http(s) server options for `limits`: the headers timeout (Node's default is 60 s),
 * checked every quarter of it (Node checks every 30 s by default, so a 10 s timeout would close a
 * slow socket after up to 40 s), and the TLS handshake held to the same time (default 120 s).
 */
export function serverTimeouts(limits: ConnectionLimits): ServerOptions & { handshakeTimeout: number } {
  return {
    headersTimeout: limits.headersTimeoutMs,
    connectionsCheckingInterval: Math.max(250, Math.min(5_000, Math.floor(limits.headersTimeoutMs / 4))),
    handshakeTimeout: limits.headersTimeoutMs,
  };
}

/** Counts connections per address, shared by the servers of one appliance (HTTPS and onboarding). */
export class ConnectionCaps {
  private readonly open = new Map<string, number>();
  /** Connections destroyed for being over the cap, since start. */
  refused = 0;

  constructor(
    readonly perAddress: number,
    /** Hears of refusals, at most once a minute (a flood must not flood the log). */
    private readonly warn: (line: string) => void = () => undefined,
  ) {}

  private lastWarning = -Infinity;

  /** Applies the cap to `server`'s connections. */
  watch(server: NetServer | HttpServer): void {
    server.on('connection', (socket: Socket) => this.admit(socket));
  }

  /** Connections open now from `address`. */
  count(address: string): number {
    return this.open.get(address) ?? 0;
  }

  private admit(socket: Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    const n = this.open.get(address) ?? 0;
    if (n >= this.perAddress) {
      this.refused++;
      socket.destroy();
      const now = Date.now();
      if (now - this.lastWarning >= 60_000) {
        this.lastWarning = now;
        this.warn(
          `connections: ${address} holds ${n} connections (PROCTOR_CONNECTIONS_PER_ADDRESS=${this.perAddress}); ` +
            `more are closed (${this.refused} so far)`,
        );
      }
      return;
    }
    this.open.set(address, n + 1);
    socket.once('close', () => {
      const left = (this.open.get(address) ?? 1) - 1;
      if (left <= 0) this.open.delete(address);
      else this.open.set(address, left);
    });
  }
}
