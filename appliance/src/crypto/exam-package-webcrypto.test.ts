/**
 * The browser's way of opening the exam package (client/src/shared/exam-package.ts, WebCrypto)
 * against the appliance's way of making it (node:crypto): the released key and the exam password
 * both open it; a wrong password, changed bytes or another exam's additional data do not.
 */
import { describe, expect, it } from 'vitest';
import {
  importReleasedKey,
  keyFromPassword,
  openPackage,
  parsePackage,
  WrongKeyError,
} from '../../../client/src/shared/exam-package.js';
import { testExam } from '../../../tests/support/appliance.js';
import { buildExamPackage, newExamSecret } from './exam-package.js';

const bytesOf = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe('exam package opened with WebCrypto', () => {
  it('opens with the released key and with the exam password, typed loosely', async () => {
    const secret = await newExamSecret();
    const exam = testExam(Date.now());
    const pkg = parsePackage(bytesOf(buildExamPackage(exam, '1', secret)));
    const viaKey = await openPackage(pkg, await importReleasedKey(secret.key));
    expect(viaKey.title).toBe(exam.title);
    expect(JSON.stringify(viaKey)).not.toContain('answerKey');
    const typed = secret.password.toLowerCase().replace(/-/g, ' ');
    const viaPassword = await openPackage(pkg, await keyFromPassword(pkg, typed));
    expect(viaPassword).toEqual(viaKey);
  });

  it('refuses a wrong password, changed ciphertext and another version in the additional data', async () => {
    const secret = await newExamSecret();
    const pkg = parsePackage(bytesOf(buildExamPackage(testExam(Date.now()), '1', secret)));
    const key = await importReleasedKey(secret.key);
    await expect(openPackage(pkg, await keyFromPassword(pkg, 'AAAA-BBBB-CCCC'))).rejects.toBeInstanceOf(WrongKeyError);
    const data = Uint8Array.from(atob(pkg.ciphertext), (c) => c.charCodeAt(0));
    data[0] = data[0]! ^ 1;
    const changed = { ...pkg, ciphertext: btoa(String.fromCharCode(...data)) };
    await expect(openPackage(changed, key)).rejects.toBeInstanceOf(WrongKeyError);
    await expect(openPackage({ ...pkg, examVersion: '2' }, key)).rejects.toBeInstanceOf(WrongKeyError);
    expect(() => parsePackage(new TextEncoder().encode('{"format":"other"}'))).toThrow();
  });
});
