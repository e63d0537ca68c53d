/**
 * Safe Exam Browser at the edge: the middleware on a tiny Hono app (requests through
 * app.request(), as SEB would send them), and the generated .seb file read back as a property list.
 */
import { Hono } from 'hono';
import { beforeEach, describe, expect, it } from 'vitest';
import { examFileSchema, safeExamBrowserSchema, type ExamFile } from '../../../domain/exam-format.js';
import {
  requestHash,
  sebConfigKey,
  sebPasswordHash,
  type SebConfigDict,
  type SebConfigValue,
} from '../../../domain/seb.js';
import { examInput } from '../../../tests/support/fixtures.js';
import {
  buildSebConfig,
  configKeyOf,
  examineeAppUrl,
  requireSebFor,
  sebConfigInfo,
  sebConfigPlist,
  sebSettingsFor,
  sendSebConfig,
  SEB_MEDIA_TYPE,
} from './seb.js';

const ORIGIN = 'https://hall-a.local';
const APP_URL = `${ORIGIN}/`;
const BEK = '0123456789abcdef'.repeat(4);
const OWN_CONFIG_KEY = 'f'.repeat(64);

function examWith(safeExamBrowser: unknown): ExamFile {
  const input = examInput();
  return examFileSchema.parse({ ...input, settings: { safeExamBrowser } });
}

interface Refused {
  reason: string;
  detail: string;
  path: string;
}

/** An app whose /api/exam/* needs SEB as `exam` says, recording refusals as the caller would. */
function appFor(exam: ExamFile) {
  const refused: Refused[] = [];
  const app = new Hono();
  app.use(
    '/api/exam/*',
    requireSebFor(
      (c) => sebSettingsFor(exam, examineeAppUrl(c)),
      async (c, reason, detail) => {
        refused.push({ reason, detail, path: c.req.path });
      },
    ),
  );
  app.get('/api/exam/package', (c) => c.json({ ok: true }));
  app.put('/api/exam/draft', (c) => c.json({ saved: true }));
  app.get('/api/proctor/exams/:examId/seb-config', (c) => sendSebConfig(c, exam));
  app.get('/api/proctor/exams/:examId/seb', (c) => c.json(sebConfigInfo(exam, examineeAppUrl(c))));
  return { app, refused };
}

/** A GET as SEB sends it: the headers hash the very URL requested. */
function sebGet(app: Hono, url: string, keys: { bek?: string; ck?: string; hashedUrl?: string }) {
  const hashed = keys.hashedUrl ?? url;
  const headers: Record<string, string> = {};
  if (keys.bek !== undefined) headers['X-SafeExamBrowser-RequestHash'] = requestHash(hashed, keys.bek);
  if (keys.ck !== undefined) headers['X-SafeExamBrowser-ConfigKeyHash'] = requestHash(hashed, keys.ck);
  return app.request(url, { headers });
}

/**
 * Reads an XML property list back (only what .seb files use), failing on anything else: enough to
 * prove the generated file is well-formed and means what the Config Key was computed from.
 */
function parsePlist(xml: string): SebConfigDict {
  const body =
    /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<!DOCTYPE plist [^>]+>\n<plist version="1\.0">\n([\s\S]*)<\/plist>\n$/.exec(
      xml,
    );
  if (!body?.[1]) throw new Error('not a property list');
  const tokens = body[1].match(/<[^>]+>|[^<]+/g)?.filter((t) => t.trim() !== '') ?? [];
  let at = 0;
  const unescape = (s: string) => s.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
  const text = (tag: string): string => {
    let value = '';
    if (!tokens[at]?.startsWith('</')) value = unescape(tokens[at++] ?? '');
    if (tokens[at++] !== `</${tag}>`) throw new Error(`unclosed <${tag}>`);
    return value;
  };
  const value = (): SebConfigValue => {
    const open = tokens[at++];
    switch (open) {
      case '<true/>':
        return true;
      case '<false/>':
        return false;
      case '<array/>':
        return [];
      case '<dict/>':
        return {};
      case '<string>':
        return text('string');
      case '<integer>':
        return Number(text('integer'));
      case '<array>': {
        const items: SebConfigValue[] = [];
        while (tokens[at] !== '</array>') items.push(value());
        at++;
        return items;
      }
      case '<dict>': {
        const dict: Record<string, SebConfigValue> = {};
        while (tokens[at] !== '</dict>') {
          if (tokens[at++] !== '<key>') throw new Error(`expected <key>, got ${tokens[at - 1]}`);
          const key = text('key');
          dict[key] = value();
        }
        at++;
        return dict;
      }
      default:
        throw new Error(`unexpected ${open}`);
    }
  };
  const root = value();
  if (at !== tokens.length || typeof root !== 'object' || Array.isArray(root) || root instanceof Uint8Array) {
    throw new Error('the root must be one dictionary');
  }
  return root as SebConfigDict;
}

describe('requireSebFor', () => {
  const exam = examWith({ required: true, browserExamKeys: [BEK.toUpperCase()], configKeys: [OWN_CONFIG_KEY] });
  let app: Hono;
  let refused: Refused[];
  beforeEach(() => ({ app, refused } = appFor(exam)));

  it('answers 403 seb-required without SEB headers and reports the refusal', async () => {
    const res = await app.request(`${ORIGIN}/api/exam/package`);
    expect(res.status).toBe(403);
    const body = (await res.json()) as { error: { code: string; message: string; detail: string } };
    expect(body.error).toMatchObject({
      code: 'seb-required',
      message: 'This exam must be taken in Safe Exam Browser.',
    });
    expect(body.error.detail).toContain('no X-SafeExamBrowser-RequestHash or X-SafeExamBrowser-ConfigKeyHash header');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(refused).toEqual([{ reason: 'headers-missing', detail: body.error.detail, path: '/api/exam/package' }]);
  });

  it('passes a RequestHash made with an allowed Browser Exam Key', async () => {
    const res = await sebGet(app, `${ORIGIN}/api/exam/package`, { bek: BEK });
    expect(res.status).toBe(200);
    expect(refused).toEqual([]);
  });

  it("passes a ConfigKeyHash of the appliance's own .seb file, and of a key the exam lists", async () => {
    const own = configKeyOf(exam, APP_URL);
    expect((await sebGet(app, `${ORIGIN}/api/exam/package?x=1`, { ck: own })).status).toBe(200);
    expect((await sebGet(app, `${ORIGIN}/api/exam/package`, { ck: OWN_CONFIG_KEY })).status).toBe(200);
    const put = await app.request(`${ORIGIN}/api/exam/draft`, {
      method: 'PUT',
      headers: { 'X-SafeExamBrowser-ConfigKeyHash': requestHash(`${ORIGIN}/api/exam/draft`, own) },
    });
    expect(put.status).toBe(200);
  });

  it('refuses a hash made for another path or another query', async () => {
    const own = configKeyOf(exam, APP_URL);
    const otherPath = await sebGet(app, `${ORIGIN}/api/exam/package`, { ck: own, hashedUrl: `${ORIGIN}/api/exam/key` });
    expect(otherPath.status).toBe(403);
    const otherQuery = await sebGet(app, `${ORIGIN}/api/exam/package?a=1`, {
      bek: BEK,
      hashedUrl: `${ORIGIN}/api/exam/package?a=2`,
    });
    expect(otherQuery.status).toBe(403);
    expect(((await otherQuery.json()) as { error: { detail: string } }).error.detail).toContain(
      `matches no allowed Browser Exam Key for ${ORIGIN}/api/exam/package?a=1`,
    );
    expect(refused.map((r) => r.reason)).toEqual(['hash-mismatch', 'hash-mismatch']);
  });

  it('takes the address from the Host the request came to', async () => {
    const url = 'https://10.0.0.2:8443/api/exam/package';
    const own = configKeyOf(exam, 'https://10.0.0.2:8443/');
    expect((await sebGet(app, url, { ck: own })).status).toBe(200);
    // The .seb made for hall-a.local starts SEB there: its key proves nothing at another address.
    expect((await sebGet(app, url, { ck: configKeyOf(exam, APP_URL) })).status).toBe(403);
    expect((await sebGet(app, url, { bek: BEK, hashedUrl: `${ORIGIN}/api/exam/package` })).status).toBe(403);
  });

  it('refuses a key of the wrong kind, an unknown key and a malformed header', async () => {
    expect((await sebGet(app, `${ORIGIN}/api/exam/package`, { bek: OWN_CONFIG_KEY })).status).toBe(403);
    expect((await sebGet(app, `${ORIGIN}/api/exam/package`, { ck: 'e'.repeat(64) })).status).toBe(403);
    const malformed = await app.request(`${ORIGIN}/api/exam/package`, {
      headers: { 'X-SafeExamBrowser-RequestHash': 'abc' },
    });
    expect(malformed.status).toBe(403);
    expect(refused.map((r) => r.reason)).toEqual(['hash-mismatch', 'hash-mismatch', 'header-malformed']);
  });

  it('lets every request through when the exam does not require SEB', async () => {
    for (const seb of [undefined, { required: false }, { quitPassword: 'x' }]) {
      const { app: open, refused: none } = appFor(examWith(seb));
      expect((await open.request(`${ORIGIN}/api/exam/package`)).status).toBe(200);
      expect(none).toEqual([]);
    }
  });

  it('needs no listed key: the generated configuration is enough', async () => {
    const bare = examWith({ required: true });
    const { app: hall } = appFor(bare);
    expect((await hall.request(`${ORIGIN}/api/exam/package`)).status).toBe(403);
    expect((await sebGet(hall, `${ORIGIN}/api/exam/package`, { ck: configKeyOf(bare, APP_URL) })).status).toBe(200);
  });
});

describe('the generated .seb file', () => {
  const exam = examWith({ required: true, quitPassword: 'end of exam 42' });

  it('is an XML property list holding the exam profile', () => {
    const xml = sebConfigPlist(buildSebConfig(exam, APP_URL));
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC')).toBe(true);
    expect(xml).toContain('<plist version="1.0">\n<dict>\n\t<key>allowAudioCapture</key>\n\t<false/>\n');
    expect(xml).toContain(`\t<key>startURL</key>\n\t<string>https://hall-a.local/?exam=${exam.examId}</string>\n`);
    expect(xml).toContain('\t<key>sendBrowserExamKey</key>\n\t<true/>\n');
    expect(xml).toContain(
      '\t<key>URLFilterRules</key>\n\t<array>\n\t\t<dict>\n\t\t\t<key>action</key>\n\t\t\t<integer>1</integer>\n',
    );
    expect(xml).toContain('\t\t\t<key>expression</key>\n\t\t\t<string>hall-a.local</string>\n');
    expect(xml).toContain(`<key>hashedQuitPassword</key>\n\t<string>${sebPasswordHash('end of exam 42')}</string>`);
    expect(xml).not.toContain('end of exam 42');
    expect(xml.endsWith('</dict>\n</plist>\n')).toBe(true);
  });

  it('reads back to the dictionary its Config Key is computed from', () => {
    const dict = buildSebConfig(exam, APP_URL);
    const parsed = parsePlist(sebConfigPlist(dict));
    expect(parsed).toEqual(dict);
    expect(sebConfigKey(parsed)).toBe(configKeyOf(exam, APP_URL));
  });

  it('has a stable Config Key that changes with the address and the exam profile', () => {
    const key = configKeyOf(exam, APP_URL);
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(sebConfigKey(buildSebConfig(examWith({ required: true, quitPassword: 'end of exam 42' }), APP_URL))).toBe(
      key,
    );
    expect(configKeyOf(exam, 'https://hall-b.local/')).not.toBe(key);
    expect(configKeyOf(examWith({ required: true, quitPassword: 'other' }), APP_URL)).not.toBe(key);
  });

  it('asks for camera, microphone and uploads only when the exam needs them', () => {
    const plain = buildSebConfig(
      examFileSchema.parse({
        ...examInput(),
        verificationMode: 'manual',
        sections: [
          {
            id: 's',
            title: 'S',
            questions: [{ id: 'q', type: 'true-false', prompt: 'Yes?', points: 1 }],
          },
        ],
      }),
      APP_URL,
    );
    expect(plain).toMatchObject({ allowVideoCapture: false, allowAudioCapture: false, allowDownUploads: false });
    const needy = buildSebConfig(
      examFileSchema.parse({
        ...examInput(),
        verificationMode: 'camera',
        settings: { hardwareChecks: ['microphone'] },
      }),
      APP_URL,
    );
    // The fixture exam has a file question.
    expect(needy).toMatchObject({ allowVideoCapture: true, allowAudioCapture: true, allowDownUploads: true });
  });

  it('keeps to what every SEB client hashes alike: letter-only keys, plain strings', () => {
    const visit = (value: SebConfigValue | undefined): void => {
      if (typeof value === 'string') {
        expect([...value].filter((ch) => ch === '"' || ch === '\\' || ch < ' ')).toEqual([]);
      } else if (Array.isArray(value)) value.forEach(visit);
      else if (typeof value === 'object' && !(value instanceof Uint8Array)) {
        for (const [key, member] of Object.entries(value)) {
          expect(key).toMatch(/^[A-Za-z]+$/);
          visit(member);
        }
      }
    };
    visit(buildSebConfig(exam, 'https://10.0.0.2:8443/'));
  });

  it('is served as application/seb for the address it was downloaded from, with the key shown as JSON', async () => {
    const { app } = appFor(exam);
    const res = await app.request(`${ORIGIN}/api/proctor/exams/${exam.examId}/seb-config`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(SEB_MEDIA_TYPE);
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${exam.examId}.seb"`);
    const served = parsePlist(await res.text());
    const info = await (await app.request(`${ORIGIN}/api/proctor/exams/${exam.examId}/seb`)).json();
    expect(info).toEqual({
      required: true,
      startURL: `${ORIGIN}/?exam=${exam.examId}`,
      configKey: sebConfigKey(served),
      allowedConfigKeys: [],
      allowedBrowserExamKeys: [],
      quitPassword: 'end of exam 42',
      fileName: `${exam.examId}.seb`,
    });
  });
});

describe('exam settings: safeExamBrowser', () => {
  it('defaults to not required and lower-cases keys', () => {
    expect(safeExamBrowserSchema.parse({})).toEqual({ required: false, browserExamKeys: [], configKeys: [] });
    expect(examFileSchema.parse(examInput()).settings.safeExamBrowser).toBeUndefined();
    expect(
      safeExamBrowserSchema.parse({ required: true, browserExamKeys: [BEK.toUpperCase()] }).browserExamKeys,
    ).toEqual([BEK]);
  });

  it('refuses keys that are not 64 hex digits, duplicates, and keys without required', () => {
    expect(safeExamBrowserSchema.safeParse({ required: true, configKeys: ['abc'] }).success).toBe(false);
    expect(safeExamBrowserSchema.safeParse({ required: true, browserExamKeys: [BEK, BEK.toUpperCase()] }).success).toBe(
      false,
    );
    const forgotten = safeExamBrowserSchema.safeParse({ configKeys: [BEK] });
    expect(forgotten.success).toBe(false);
    expect(forgotten.error?.issues[0]?.path).toEqual(['required']);
    expect(safeExamBrowserSchema.safeParse({ required: true, extra: 1 }).success).toBe(false);
  });
});
