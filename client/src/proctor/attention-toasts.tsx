/**
 * The toasts for what newly needs a proctor: one line naming the examinee and what they need, a
 * button to the right dialog, and a dismiss button; newest on top. The stack is one polite live
 * region that is always there, so each toast added is read out once.
 */
import { t } from '../i18n';
import type { AttentionItem } from '../../../domain/attention.js';
import type { AttentionToast } from './use-attention-toasts';

const T = t.proctor.attention;

export function AttentionToasts(props: {
  toasts: readonly AttentionToast[];
  onOpen: (item: AttentionItem) => void;
  onDismiss: (key: string) => void;
  onPause: (paused: boolean) => void;
}) {
  return (
    <div
      class="attention-toasts"
      role="status"
      aria-label={T.toastsLabel}
      data-testid="attention-toasts"
      onMouseEnter={() => props.onPause(true)}
      onMouseLeave={() => props.onPause(false)}
      onFocusIn={() => props.onPause(true)}
      onFocusOut={() => props.onPause(false)}
    >
      {props.toasts.map(({ key, item }) => {
        const text = T.says[item.kind](item.name);
        return (
          <div
            class={`attention-toast kind-${item.kind}`}
            key={key}
            data-testid="attention-toast"
            data-kind={item.kind}
          >
            <p class="toast-text">{text}</p>
            <div class="toast-buttons">
              <button
                type="button"
                class="small"
                aria-label={T.openFor(T.open[item.kind], item.name)}
                onClick={() => props.onOpen(item)}
              >
                {T.open[item.kind]}
              </button>
              <button
                type="button"
                class="secondary small"
                aria-label={T.dismiss(text)}
                onClick={() => props.onDismiss(key)}
              >
                <span aria-hidden="true">×</span>
              </button>
            </div>
          </div>
        );
      })}
    </div>
  );
}
