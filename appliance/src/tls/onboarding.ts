/**
 * The plain-HTTP side of the appliance when HTTPS is on (PROCTOR_HTTP_PORT, 80 on the box): the
 * onboarding page that offers the hall CA (local-ca mode) with its fingerprints and install
 * steps per platform, and a redirect to HTTPS for every other address.
 *
 *   GET /            the onboarding page (local-ca); a redirect to HTTPS in provided mode
 *   GET /ca.crt      the CA certificate, DER, application/x-x509-ca-cert (what phones install)
 *   GET /ca.pem      the same, PEM text
 *   GET /favicon.ico 204: the browser asks for it on its own, and a redirect to HTTPS would be
 *                    an image from another origin, which the page's img-src refuses
 *   anything else    307 to the same path and query on https://<host>:<HTTPS port>
 *
 * <host> is the name the device used only when it is one of the box's own (a name or address the
 * HTTPS certificate carries); any other Host header goes to the box's primary name
 * (`<applianceName>.local`, or the certificate's first name in provided mode), so the HTTP side
 * can never be made to send a device somewhere else.
 *
 * The page asks the HTTPS side for /api/health in the background: when that succeeds the device
 * already trusts the CA, and the page goes on to the app by itself (`/?stay` keeps it).
 */
import { createHash } from 'node:crypto';
import { Hono, type Context } from 'hono';
import { isIP } from 'node:net';
import type { BoxNames } from './box-names.js';
import type { CaCertificate } from './local-ca.js';
import { ONBOARDING_EN, type OnboardingText } from './onboarding-text.js';
import { policy, setSecurityHeaders, styleHash } from '../http/security-headers.js';

export interface OnboardingDeps {
  /** The hall CA (local-ca mode); undefined in provided mode (a public certificate needs no onboarding). */
  ca: () => CaCertificate | undefined;
  /** The names and addresses the HTTPS certificate carries: the only hosts redirected to. */
  names: () => BoxNames;
  /** The HTTPS port (known once the server listens). */
  httpsPort: () => number;
  applianceName: string;
  text?: OnboardingText;
}

export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

/** An address as the URL parser writes it (IPv6 compressed, lower case), without brackets. */
const canonicalIp = (ip: string) =>
  isIP(ip) === 6 ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : new URL(`http://${ip}/`).hostname;

/** Whether a certificate name (possibly a wildcard, `*.school.example`) covers `host`. */
function dnsCovers(name: string, host: string): boolean {
  const n = name.toLowerCase();
  if (!n.startsWith('*.')) return n === host;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === n.slice(2);
}

/**
 * The host to send a device to: the one it asked for (the URL's host, from the Host header) when
 * it is one of the box's names or addresses, else the box's primary name.
 */
export function redirectHost(asked: string, names: BoxNames, applianceName: string): string {
  const host = asked.toLowerCase().replace(/\.$/, '');
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(bare) !== 0) {
    const ip = canonicalIp(bare);
    if (names.ips.some((n) => isIP(n) !== 0 && canonicalIp(n) === ip)) return isIP(ip) === 6 ? `[${ip}]` : ip;
  } else if (names.dns.some((n) => dnsCovers(n, host))) return host;
  const primary = `${applianceName}.local`;
  if (names.dns.includes(primary)) return primary;
  return names.dns.find((n) => !n.startsWith('*.')) ?? primary;
}

/** https://<host>[:port] — the name the device reached the box by, when it is the box's. */
export function httpsOrigin(c: Context, deps: Pick<OnboardingDeps, 'httpsPort' | 'applianceName' | 'names'>): string {
  const host = redirectHost(new URL(c.req.url).hostname, deps.names(), deps.applianceName);
  const port = deps.httpsPort();
  return `https://${host}${port === 443 ? '' : `:${port}`}`;
}

function colonHex(digest: Buffer): string {
  return digest.toString('hex').toUpperCase().match(/../g)?.join(':') ?? '';
}

/** The page's style: inline, allowed by its hash (ONBOARDING_CSP). */
const ONBOARDING_CSS = `
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; line-height: 1.5; }
  body { margin: 0 auto; max-width: 42rem; padding: 1rem; }
  h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 1.5rem; }
  a.button { display: inline-block; padding: .75rem 1rem; border-radius: .5rem; background: #1a56db; color: #fff;
    text-decoration: none; font-weight: 600; margin: .25rem 0; }
  a.button:focus-visible, summary:focus-visible, a:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
  code { overflow-wrap: anywhere; font-size: .95rem; }
  dl { display: grid; gap: .25rem; } dt { font-weight: 600; } dd { margin: 0 0 .5rem; }
  details { border: 1px solid #8886; border-radius: .5rem; padding: .5rem .75rem; margin: .5rem 0; }
  summary { cursor: pointer; font-weight: 600; min-height: 1.75rem; }
  .note { font-size: .95rem; opacity: .85; }
  pre { overflow-x: auto; padding: .5rem .75rem; border-radius: .25rem; background: #8882; font-size: .9rem; }
  [role=status]:empty { display: none; }
  [role=status] { padding: .5rem .75rem; border-radius: .5rem; background: #def7ec; color: #03543f; }
`;

/**
 * The page's script, a file (no inline script): a device that already trusts the CA can reach the
 * HTTPS side; it goes on to the app (`?stay` keeps it here).
 */
const ONBOARDING_JS = `'use strict';
(function () {
  var main = document.querySelector('main');
  if (!main || /[?&]stay\\b/.test(location.search)) return;
  fetch(main.dataset.health, { mode: 'no-cors', cache: 'no-store' }).then(function () {
    document.getElementById('trusted').textContent = main.dataset.trusted;
    location.replace(main.dataset.app);
  }, function () {});
})();
`;

/** The onboarding page's policy: its script from this server, its style by hash, one request to HTTPS. */
export function onboardingCsp(httpsOrigin: string): string {
  return policy({
    'default-src': ["'none'"],
    'script-src': ["'self'"],
    'style-src': [styleHash(ONBOARDING_CSS)],
    'connect-src': [httpsOrigin],
    'img-src': ["'self'"],
    'object-src': ["'none'"],
    'base-uri': ["'none'"],
    'form-action': ["'none'"],
    'frame-ancestors': ["'none'"],
  });
}

/** A command line of the install steps with the appliance's name and the PEM file's name in it. */
export const command = (line: string, name: string) =>
  line.replaceAll('{file}', `${name}-ca.pem`).replaceAll('{name}', name);

/** The onboarding page's HTML: accessible, readable on a phone, no external resources. */
export function onboardingPage(ca: CaCertificate, origin: string, name: string, text: OnboardingText): string {
  const sha1 = colonHex(createHash('sha1').update(ca.der).digest());
  const platforms = text.platforms
    .map(
      (p) => `
      <details id="${p.id}">
        <summary>${escapeHtml(p.name)}</summary>
        <ol>${p.steps.map((s) => `<li>${escapeHtml(s)}</li>`).join('')}</ol>
        ${'commands' in p && p.commands ? `<pre tabindex="0"><code>${p.commands.map((line) => escapeHtml(command(line, name))).join('\n')}</code></pre>` : ''}
        ${'note' in p && p.note ? `<p class="note">${escapeHtml(p.note)}</p>` : ''}
      </details>`,
    )
    .join('');
  const app = `${origin}/`;
  return `<!doctype html>
<html lang="${text.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(text.title(name))}</title>
<style>${ONBOARDING_CSS}</style>
</head>
<body>
<main data-health="${escapeHtml(`${origin}/api/health`)}" data-app="${escapeHtml(app)}" data-trusted="${escapeHtml(text.trusted)}">
  <h1>${escapeHtml(text.title(name))}</h1>
  <p>${escapeHtml(text.intro)}</p>
  <p id="trusted" role="status"></p>
  <h2>${escapeHtml(text.downloadHeading)}</h2>
  <p><a class="button" href="/ca.crt" download="${escapeHtml(name)}-ca.crt">${escapeHtml(text.downloadCrt)}</a></p>
  <p><a href="/ca.pem" download="${escapeHtml(name)}-ca.pem">${escapeHtml(text.downloadPem)}</a></p>
  <h2>${escapeHtml(text.fingerprintHeading)}</h2>
  <p>${escapeHtml(text.fingerprintIntro)}</p>
  <dl>
    <dt>${escapeHtml(text.sha256Label)}</dt><dd><code data-testid="fingerprint">${ca.fingerprint}</code></dd>
    <dt>${escapeHtml(text.sha1Label)}</dt><dd><code>${sha1}</code></dd>
  </dl>
  <p class="note">${escapeHtml(text.managed)}</p>
  <h2>${escapeHtml(text.installHeading)}</h2>
  <p>${escapeHtml(text.installIntro)}</p>
  ${platforms}
  <h2>${escapeHtml(text.openHeading)}</h2>
  <p>${escapeHtml(text.openIntro)}</p>
  <p><a class="button" href="${escapeHtml(app)}">${escapeHtml(text.openButton)}</a></p>
  <p><a href="${escapeHtml(app)}proctor/">${escapeHtml(text.proctorLink)}</a></p>
</main>
<script src="/onboarding.js"></script>
</body>
</html>
`;
}

export function onboardingApp(deps: OnboardingDeps): Hono {
  const text = deps.text ?? ONBOARDING_EN;
  const app = new Hono();
  // Plain HTTP: no Strict-Transport-Security here (browsers ignore it over HTTP anyway).
  app.use('*', async (c, next) => {
    await next();
    setSecurityHeaders(c.res.headers, onboardingCsp(httpsOrigin(c, deps)));
  });
  const toHttps = (c: Context) => {
    const url = new URL(c.req.url);
    c.header('cache-control', 'no-store');
    return c.redirect(`${httpsOrigin(c, deps)}${url.pathname}${url.search}`, 307);
  };

  app.get('/', (c) => {
    const ca = deps.ca();
    if (!ca) return toHttps(c);
    c.header('cache-control', 'no-store');
    return c.html(onboardingPage(ca, httpsOrigin(c, deps), deps.applianceName, text));
  });
  // Browsers ask for a favicon by themselves: answered here, not sent to HTTPS (which the page's
  // policy, rightly, would refuse to load).
  app.get('/favicon.ico', (c) => c.body(null, 204, { 'cache-control': 'max-age=86400' }));
  app.get('/onboarding.js', (c) =>
    c.body(ONBOARDING_JS, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' }),
  );
  app.get('/ca.crt', (c) => {
    const ca = deps.ca();
    if (!ca) return toHttps(c);
    return c.body(ca.der.slice().buffer, 200, {
      'content-type': 'application/x-x509-ca-cert',
      'content-disposition': `attachment; filename="${deps.applianceName}-ca.crt"`,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
  });
  app.get('/ca.pem', (c) => {
    const ca = deps.ca();
    if (!ca) return toHttps(c);
    return c.body(ca.pem, 200, {
      'content-type': 'application/x-pem-file',
      'content-disposition': `attachment; filename="${deps.applianceName}-ca.pem"`,
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
  });
  app.all('*', toHttps);
  return app;
}
