/**
 * A fake NOTIFY_SOCKET for tests of systemd's notify protocol: a small python3 process binds the
 * unix datagram socket (Node cannot), answers systemd-notify's barrier as systemd does (by closing
 * the file descriptor that comes with BARRIER=1) and prints every datagram. Needs python3.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { withDeadline } from './appliance-process.js';

/** What systemd does with a notify datagram, as far as a test needs: keep it, release barriers. */
const FAKE_SYSTEMD_PY = `
import json, os, socket, sys
address = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\\0" + address[1:] if address.startswith("@") else address)
print(json.dumps("bound"), flush=True)
while True:
    message, fds, _flags, _addr = socket.recv_fds(s, 65536, 8)
    for fd in fds:
        os.close(fd)
    print(json.dumps(message.decode("utf-8")), flush=True)
`;

/** Datagrams received on a fake NOTIFY_SOCKET (`path`, or `@name` for the abstract namespace). */
export class FakeSystemd {
  readonly messages: string[] = [];
  private waiters: (() => void)[] = [];
  private readonly child: ChildProcess;
  private readonly bound: Promise<void>;

  constructor(readonly path: string) {
    this.child = spawn('python3', ['-c', FAKE_SYSTEMD_PY, path], { stdio: ['ignore', 'pipe', 'inherit'] });
    let onBound: () => void = () => {};
    this.bound = new Promise<void>((resolve) => (onBound = resolve));
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      const message = JSON.parse(line) as string;
      if (message === 'bound') return onBound();
      if (message === 'BARRIER=1') return;
      this.messages.push(message);
      for (const w of this.waiters) w();
    });
  }

  static async start(path: string): Promise<FakeSystemd> {
    const systemd = new FakeSystemd(path);
    await withDeadline(systemd.bound, 10_000, () => 'the fake systemd (python3) did not bind its socket');
    return systemd;
  }

  waitFor(match: (m: string) => boolean, what: string, ms = 20_000): Promise<string> {
    return withDeadline(
      new Promise<string>((resolve) => {
        const check = () => {
          const m = this.messages.find(match);
          if (m !== undefined) resolve(m);
        };
        this.waiters.push(check);
        check();
      }),
      ms,
      () => `no ${what} within ${ms} ms; got ${JSON.stringify(this.messages)}`,
    );
  }

  close(): void {
    this.child.kill();
  }
}
