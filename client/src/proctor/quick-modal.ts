/**
 * A modal dialog that shows in the frame it was opened in, for the one a proctor opens all
 * exam long: an examinee's actions (row-actions.tsx), on a phone or a slow tablet.
 *
 * A native modal (`showModal`) makes the rest of the page inert in the same task, and Chromium
 * restyles every element of the page for that, before the dialog can paint, and again when it
 * closes: 20–60 ms to open and 18–39 ms to close at 4× CPU throttle with a 20-row table behind
 * (docs/performance.md, "The dialog without the page's restyle"). So here the dialog is shown non-modal
 * (`show()`, with `aria-modal`) and made modal by hand:
 * - a backdrop under it takes the pointer (the page behind gets no clicks, and the focus stays);
 * - Tab and Shift+Tab go round the dialog's own controls; focus that lands outside comes back;
 * - Escape closes it, as it closes a native modal;
 * - once the dialog has painted (the next idle moment), everything else on the page becomes
 *   `inert`, for assistive technology as for the keyboard, and so does what the page adds beside
 *   it while it is open; its closing takes that back at once.
 */
import type { RefObject } from 'preact';
import { useLayoutEffect } from 'preact/hooks';

const FOCUSABLE = 'button, [href], input, select, textarea, summary, [tabindex]';

/** The dialog's controls that Tab stops at, in order. */
function tabStops(dialog: HTMLElement): HTMLElement[] {
  return [...dialog.querySelectorAll<HTMLElement>(FOCUSABLE)].filter(
    (e) => e.tabIndex >= 0 && !e.matches(':disabled') && e.getClientRects().length > 0,
  );
}

/** Another open dialog than `dialog` holds `node` (a confirmation opened above it). */
function inAnotherDialog(dialog: HTMLElement, node: EventTarget | null): boolean {
  const other = node instanceof Element ? node.closest('dialog[open]') : null;
  return other !== null && other !== dialog;
}

/**
 * Everything on the page beside the dialog and its backdrop: the other children of each of the
 * dialog's ancestors up to <body>, except those already inert.
 */
function pageBehind(dialog: HTMLElement, backdrop: HTMLElement | null): HTMLElement[] {
  const behind: HTMLElement[] = [];
  for (
    let node: HTMLElement = dialog;
    node.parentElement !== null && node !== document.body;
    node = node.parentElement
  ) {
    for (const sibling of node.parentElement.children) {
      if (sibling !== node && sibling !== backdrop && sibling instanceof HTMLElement && !sibling.inert) {
        behind.push(sibling);
      }
    }
  }
  return behind;
}

/** After the next frame has painted, when the page is idle (at most `within` ms later); the cancel. */
export function afterPaint(then: () => void, within = 200): () => void {
  let idle: number | undefined;
  let timer: number | undefined;
  const frame = requestAnimationFrame(() => {
    if (typeof requestIdleCallback === 'function') idle = requestIdleCallback(then, { timeout: within });
    else timer = window.setTimeout(then, 0);
  });
  return () => {
    cancelAnimationFrame(frame);
    if (idle !== undefined) cancelIdleCallback(idle);
    window.clearTimeout(timer);
  };
}

/**
 * Shows `dialog` as a quick modal while the calling component is mounted (from its first
 * layout effect, in the task that mounted it), and closes it when the component goes. Render
 * `<div class="modal-backdrop" ref={backdrop} />` just before the dialog, and give the dialog
 * `aria-modal="true"`. Escape calls `dialog.close()`, so the dialog's `close` event says it went.
 */
export function useQuickModal(
  dialog: RefObject<HTMLDialogElement | null>,
  backdrop: RefObject<HTMLDivElement | null>,
): void {
  useLayoutEffect(() => {
    const d = dialog.current;
    if (d === null) return undefined;
    if (!d.open) d.show();
    if (!d.contains(document.activeElement)) (tabStops(d)[0] ?? d).focus();

    const onKey = (e: KeyboardEvent) => {
      if (!d.open || e.defaultPrevented || e.isComposing || inAnotherDialog(d, e.target)) return;
      if (e.key === 'Escape') {
        e.preventDefault();
        release();
        d.close();
        return;
      }
      if (e.key !== 'Tab') return;
      const stops = tabStops(d);
      const first = stops[0];
      const last = stops[stops.length - 1];
      const active = document.activeElement;
      if (first === undefined || last === undefined) {
        e.preventDefault();
        d.focus();
      } else if (!d.contains(active)) {
        e.preventDefault();
        (e.shiftKey ? last : first).focus();
      } else if (e.shiftKey && (active === first || active === d)) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && active === last) {
        e.preventDefault();
        first.focus();
      }
    };
    // Focus that lands on the page behind (before it is inert, or from outside the keyboard's
    // path) comes back to the dialog.
    const onFocus = (e: FocusEvent) => {
      const to = e.target;
      if (!d.open || !(to instanceof Node) || d.contains(to) || inAnotherDialog(d, to)) return;
      (tabStops(d)[0] ?? d).focus();
    };
    // A press on the backdrop keeps the focus where it is (a native modal's backdrop does too).
    const b = backdrop.current;
    const keepFocus = (e: MouseEvent) => e.preventDefault();
    document.addEventListener('keydown', onKey, true);
    document.addEventListener('focusin', onFocus, true);
    b?.addEventListener('mousedown', keepFocus);

    let made: HTMLElement[] = [];
    // What the page adds beside the dialog's ancestors while it is open (a live update shows a
    // table, a toast stack) is inert too.
    const added = new MutationObserver(() => {
      const more = pageBehind(d, b);
      for (const e of more) e.inert = true;
      made.push(...more);
    });
    const cancel = afterPaint(() => {
      if (!d.open || !d.isConnected) return;
      made = pageBehind(d, b);
      for (const e of made) e.inert = true;
      for (let node = d.parentElement; node !== null && node !== document.documentElement; node = node.parentElement)
        added.observe(node, { childList: true });
    });
    const release = () => {
      cancel();
      added.disconnect();
      for (const e of made) e.inert = false;
      made = [];
    };
    d.addEventListener('close', release);
    return () => {
      release();
      d.removeEventListener('close', release);
      document.removeEventListener('keydown', onKey, true);
      document.removeEventListener('focusin', onFocus, true);
      b?.removeEventListener('mousedown', keepFocus);
      if (d.open) d.close();
    };
  }, [dialog, backdrop]);
}
