// Is the appliance that answers on this box up, and is it the expected build? Run by
// provision.sh after it switched releases (and after a rollback), with the node of the release
// it checks, as root:
//
//   node health-probe.mjs URL [VERSION]
//
// Exit 0 when GET URL (http or https, e.g. https://127.0.0.1:443/api/health) answers 2xx with
// status "ok" or "degraded" (a storage fault the appliance survives: not the release's doing)
// and, when VERSION is given, version VERSION (the process that answers runs the new release, not
// the old one still stopping); exit 1 otherwise. Prints one line saying what it saw.
// The certificate is not checked: this is the box asking itself over loopback whether the
// server runs, not a device deciding whether to trust it (the certificate may name only the
// box's own names, and in `provided` mode not 127.0.0.1).
import http from 'node:http';
import https from 'node:https';
import process from 'node:process';

const [url, version] = process.argv.slice(2);
if (url === undefined) {
  process.stdout.write('usage: health-probe.mjs URL [VERSION]\n');
  process.exit(2);
}

const client = url.startsWith('https:') ? https : http;
const req = client.get(url, { rejectUnauthorized: false, timeout: 5_000 }, (res) => {
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (chunk) => (text += chunk));
  res.on('end', () => {
    let body = {};
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: judged below as no status.
    }
    const seen = `HTTP ${res.statusCode}, status ${body.status}, version ${body.version}`;
    const ok =
      res.statusCode >= 200 &&
      res.statusCode < 300 &&
      (body.status === 'ok' || body.status === 'degraded') &&
      (version === undefined || version === '' || body.version === version);
    process.stdout.write(`${seen}${ok || !version || body.version === version ? '' : ` (expected ${version})`}\n`);
    process.exit(ok ? 0 : 1);
  });
});
req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
req.on('error', (err) => {
  process.stdout.write(`no answer: ${err.code ?? err.message}\n`);
  process.exit(1);
});
