/**
 * axe-core in the browser tests (accessibility, lock-resume, proctor-monitor): runs the WCAG 2.x
 * A/AA and best-practice rules on a page through @axe-core/playwright, prints every violation with
 * its impact and elements, and returns the serious and critical ones for the test to fail on.
 */
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

/** WCAG 2.x A and AA plus axe's best practices: everything axe checks by default, tagged. */
export const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

/** Runs axe on the page as it is, prints every violation, returns the serious and critical ones. */
export async function audit(page: Page, screen: string): Promise<string[]> {
  const { violations, passes } = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  // axe really ran: a page with no rule passing would mean it checked nothing.
  expect(passes.length, `axe rules passed on ${screen}`).toBeGreaterThan(0);
  const lines = violations.map(
    (v) =>
      `[${v.impact ?? 'unknown'}] ${v.id}: ${v.help} (${v.nodes.length} node(s): ` +
      `${v.nodes.map((n) => n.target.join(' ')).join(', ')})`,
  );
  process.stdout.write(
    `axe, ${screen}: ${passes.length} rules passed, ` +
      `${violations.length === 0 ? 'no violations' : `${violations.length} violated:\n  ${lines.join('\n  ')}`}\n`,
  );
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${screen}: ${lines[violations.indexOf(v)]!}`);
}
