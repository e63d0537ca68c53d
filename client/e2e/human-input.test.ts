/**
 * How people put text into answers, beyond steady typing (typing.test.ts): typing on through a
 * network cut, a reload right after the last key, an IME composition (Japanese), a paste of
 * 200,000 characters, native undo, and typing in the middle of existing text. Keys are real key
 * events (keyboard.type / press), an IME and a paste go through the DevTools protocol as the
 * browser's own input (Input.imeSetComposition, Input.insertText), never fill(). The CPU is
 * throttled 4× as on a school laptop.
 *
 * Every case asserts that the field, the device's database, the appliance's draft, the answer
 * file stored at submission and the signed receipt hold exactly the expected text (answers.ts).
 *
 * One hall for the file (its exam starts once): each case signs in as its own examinee (S1–S6)
 * in its own fresh browser, so the cases share nothing but the appliance.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CDPSession, Page } from 'playwright-core';
import { countWords, MAX_TEXT_ANSWER_LENGTH } from '../../domain/answer-sheet.js';
import { answerField, deviceAnswers, draft, expectSaved, goTo, submitAndCheck, throttle } from './answers.js';
import { launchChromium, screenshot, watchConsole } from './browser.js';
import { openHall, signInAndOpen, type Hall } from './hall.js';

declare const navigator: { clipboard: { writeText(text: string): Promise<void> } };
declare const document: {
  activeElement: { selectionStart?: number; selectionEnd?: number; id: string } | null;
};

const START_AHEAD_MS = 15_000;
const CPU = 4;

let h: Hall;
beforeAll(async () => {
  h = await openHall({ startAheadMs: START_AHEAD_MS, examinees: 6, settings: { lockOnReload: false } });
});
afterAll(async () => {
  await h?.close();
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A fresh browser signed in as examinee `index`, the exam open, the CPU throttled. */
async function examinee(
  index: number,
  options: { networkCut?: boolean } = {},
): Promise<{ p: Page; cdp: CDPSession; errors: string[]; studentId: string }> {
  const b = await launchChromium();
  cleanups.push(() => b.close());
  const p = await b.context.newPage();
  const errors = watchConsole(p, options);
  await signInAndOpen(p, h, index);
  const cdp = await throttle(p, CPU);
  return { p, cdp, errors, studentId: h.files.roster[index]!.studentId };
}

/** Where the caret is in the focused field. */
const caret = (p: Page) =>
  p.evaluate(() => [document.activeElement?.selectionStart ?? -1, document.activeElement?.selectionEnd ?? -1]);

describe('human input into answers in Chromium (CPU throttled 4×)', () => {
  it('typing on while the network is cut: kept on the device, on the appliance after reconnect', async () => {
    const { p, errors, studentId } = await examinee(0, { networkCut: true });
    await goTo(p, 4);
    const essay = answerField(p);
    await essay.click();
    const online = 'Typed online, ';
    await p.keyboard.type(online, { delay: 20 });
    // The Wi-Fi goes mid-answer; typing goes straight on.
    await p.context().setOffline(true);
    const offline = 'and this part while the Wi-Fi was down.';
    await p.keyboard.type(offline, { delay: 20 });
    await p.getByTestId('connection').filter({ hasText: 'Offline: answers kept on this device' }).waitFor();
    // Another question, offline too.
    await goTo(p, 3);
    await answerField(p).click();
    await p.keyboard.type('42', { delay: 20 });
    expect(await answerField(p).inputValue()).toBe('42');
    await goTo(p, 4);
    expect(await answerField(p).inputValue()).toBe(online + offline);
    // On the device, not on the appliance (asked from outside the cut network).
    await expect.poll(() => deviceAnswers(p)).toEqual({ q3: 42, q4: online + offline });
    expect((await draft(h, p)).q4).not.toBe(online + offline);
    expect((await draft(h, p)).q3).toBeUndefined();

    // The network is back: everything reaches the appliance, exactly as typed.
    await p.context().setOffline(false);
    const expected = { q3: 42, q4: online + offline };
    await expectSaved(h, p, expected);
    await screenshot(p, 'human-input-offline');
    await submitAndCheck(h, p, studentId, expected);
    expect(errors).toEqual([]);
  });

  it('a reload right after the last key loses nothing (written on pagehide); typing continues', async () => {
    const { p, errors, studentId } = await examinee(1);
    await goTo(p, 4);
    await answerField(p).click();
    const before = 'Written before the reload, fast and right up to it';
    await p.keyboard.type(before, { delay: 0 });
    // No wait for the writer: the page goes at once, as when a laptop's F5 is hit mid-word.
    await p.reload();
    // The exam comes back on the same question with every character.
    await p.getByRole('heading', { name: /^Question 4 of / }).waitFor();
    const again = answerField(p);
    expect(await again.inputValue()).toBe(before);
    await throttle(p, CPU);
    await again.click();
    await p.keyboard.press('End');
    const after = ', and after it.';
    await p.keyboard.type(after, { delay: 20 });
    expect(await again.inputValue()).toBe(before + after);
    const expected = { q4: before + after };
    await expectSaved(h, p, expected);
    await submitAndCheck(h, p, studentId, expected);
    expect(errors).toEqual([]);
  });

  it('an IME composition (にほんご → 日本語) leaves exactly the committed text, nothing of the composition', async () => {
    const { p, cdp, errors, studentId } = await examinee(2);
    await goTo(p, 4);
    const essay = answerField(p);
    await essay.click();
    await p.keyboard.type('Japan in Japanese: ', { delay: 20 });
    // Composing reading by reading, as an IME does while the examinee types n-i-h-o-n-g-o.
    for (const composing of ['に', 'にほ', 'にほん', 'にほんご']) {
      await cdp.send('Input.imeSetComposition', {
        text: composing,
        selectionStart: composing.length,
        selectionEnd: composing.length,
      });
    }
    expect(await essay.inputValue()).toBe('Japan in Japanese: にほんご');
    // Longer than the writer's 300 ms: the composing text may be written behind meanwhile.
    await expect.poll(async () => (await deviceAnswers(p)).q4).toBe('Japan in Japanese: にほんご');
    // The conversion is chosen and committed.
    await cdp.send('Input.insertText', { text: '日本語' });
    expect(await essay.inputValue()).toBe('Japan in Japanese: 日本語');
    await p.keyboard.type(' (nihongo).', { delay: 20 });
    const text = 'Japan in Japanese: 日本語 (nihongo).';
    expect(await essay.inputValue()).toBe(text);
    await expectSaved(h, p, { q4: text });
    const submitted = await submitAndCheck(h, p, studentId, { q4: text });
    expect(submitted.bytes).not.toMatch(/[にほんご]/);
    await screenshot(p, 'human-input-ime');
    expect(errors).toEqual([]);
  });

  it('a paste of 200,000 characters (Ctrl+V) stops at the appliance’s limit; typing goes on within it', async () => {
    const { p, errors, studentId } = await examinee(3);
    await p.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: h.origin });
    await goTo(p, 4);
    const essay = answerField(p);
    await essay.click();
    await p.keyboard.type('Pasted: ', { delay: 20 });
    // An essay written elsewhere: 200,000 characters in paragraphs, on the clipboard.
    const words = ['entropy', 'microstate', 'Boltzmann', 'équilibre', 'heat', 'disorder', 'k ln W', 'Gibbs'];
    let pasted = '';
    for (let i = 0; pasted.length < 200_000; i++) pasted += `${words[i % words.length]}${i % 17 === 16 ? '\n' : ' '}`;
    pasted = pasted.slice(0, 200_000);
    await p.evaluate((text) => navigator.clipboard.writeText(text), pasted);
    await p.keyboard.press('Control+V');
    // The field takes text up to the limit the appliance takes (MAX_TEXT_ANSWER_LENGTH), no more:
    // an answer over it would be refused by every autosave and by the submission.
    const full = `Pasted: ${pasted}`.slice(0, MAX_TEXT_ANSWER_LENGTH);
    expect(await essay.inputValue()).toBe(full);
    await p.keyboard.type('xyz', { delay: 20 });
    expect(await essay.inputValue()).toBe(full);
    // The end rewritten: nine characters taken back, nine typed.
    for (let i = 0; i < 9; i++) await p.keyboard.press('Backspace');
    await p.keyboard.type(' The end.', { delay: 20 });
    const text = `${full.slice(0, -9)} The end.`;
    expect(await essay.inputValue()).toBe(text);
    await p.getByText(`${countWords(text)} words`, { exact: true }).waitFor();
    await expectSaved(h, p, { q4: text });
    const submitted = await submitAndCheck(h, p, studentId, { q4: text });
    expect(submitted.answers.q4).toHaveLength(200_000);
    expect(errors).toEqual([]);
  });

  it('native undo (Ctrl+Z) after typing and deleting restores the previous text, and that is saved', async () => {
    const { p, errors, studentId } = await examinee(4);
    await goTo(p, 4);
    const essay = answerField(p);
    await essay.click();
    const text = 'Heat flows from hot to cold.';
    await p.keyboard.type(text, { delay: 20 });
    await expect.poll(async () => (await deviceAnswers(p)).q4).toBe(text);
    // Everything selected and deleted by mistake: the answer is cleared on the device too.
    await p.keyboard.press('Control+A');
    await p.keyboard.press('Backspace');
    expect(await essay.inputValue()).toBe('');
    await expect.poll(async () => (await deviceAnswers(p)).q4).toBeUndefined();
    // Undo brings it back, in the field and everywhere after it.
    await p.keyboard.press('Control+Z');
    expect(await essay.inputValue()).toBe(text);
    await expectSaved(h, p, { q4: text });
    // More typing, then undo again: back to what was there before it.
    await p.keyboard.press('End');
    await p.keyboard.type(' Never the other way.', { delay: 20 });
    await expect.poll(async () => (await deviceAnswers(p)).q4).toBe(`${text} Never the other way.`);
    await p.keyboard.press('Control+Z');
    expect(await essay.inputValue()).toBe(text);
    await expectSaved(h, p, { q4: text });
    await submitAndCheck(h, p, studentId, { q4: text });
    expect(errors).toEqual([]);
  });

  it('typing in the middle of the text: the caret stays where it is across the store’s round trips', async () => {
    const { p, errors, studentId } = await examinee(5);
    await goTo(p, 4);
    const essay = answerField(p);
    await essay.click();
    await p.keyboard.type('The fox jumps.', { delay: 20 });
    await expectSaved(h, p, { q4: 'The fox jumps.' });
    // Back before "fox" ("fox jumps." is 10 characters), then typing there.
    for (let i = 0; i < 10; i++) await p.keyboard.press('ArrowLeft');
    expect(await caret(p)).toEqual([4, 4]);
    await p.keyboard.type('quick ', { delay: 20 });
    expect(await essay.inputValue()).toBe('The quick fox jumps.');
    // The write goes to the device and the appliance and the store emits it back: the caret stays.
    await expectSaved(h, p, { q4: 'The quick fox jumps.' });
    expect(await caret(p)).toEqual([10, 10]);
    await p.keyboard.type('brown ', { delay: 20 });
    expect(await essay.inputValue()).toBe('The quick brown fox jumps.');
    // Away and back, a click in the field, Home: typing goes in at the start.
    await goTo(p, 3);
    await goTo(p, 4);
    await answerField(p).click();
    await p.keyboard.press('Control+Home');
    await p.keyboard.type('Answer: ', { delay: 20 });
    const text = 'Answer: The quick brown fox jumps.';
    expect(await answerField(p).inputValue()).toBe(text);
    expect(await caret(p)).toEqual([8, 8]);
    await expectSaved(h, p, { q4: text });
    await submitAndCheck(h, p, studentId, { q4: text });
    expect(errors).toEqual([]);
  });
});
