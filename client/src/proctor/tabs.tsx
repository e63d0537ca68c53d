/**
 * An ARIA tablist (WAI-ARIA Authoring Practices "Tabs, automatic activation"): one tab stop,
 * arrow keys move between tabs and select them, Home and End jump to the ends. Each panel is
 * labelled by its tab; panels already visited stay mounted (hidden), so their state is kept.
 *
 * A tab may have an icon, a short label and a count: on a phone the tablist is a bar fixed at the
 * bottom of the screen (as a phone's apps have) showing icon, short label and count, all six
 * tabs in reach of a thumb; wider screens show the full label with the count in words.
 */
import type { ComponentChildren } from 'preact';
import { useRef } from 'preact/hooks';

export interface TabsProps<K extends string> {
  idPrefix: string;
  label: string;
  tabs: readonly {
    key: K;
    /** The full label (with a count in words), and its short form for a phone's bottom bar. */
    label: string;
    short?: string;
    icon?: string;
    /** A count shown as a badge on the phone's bar (the full label says it in words). */
    badge?: number;
  }[];
  selected: K;
  onSelect: (key: K) => void;
  visited: ReadonlySet<K>;
  render: (key: K) => ComponentChildren;
}

export function Tabs<K extends string>(props: TabsProps<K>) {
  const refs = useRef<Record<string, HTMLButtonElement | null>>({});
  const keys = props.tabs.map((t) => t.key);

  const onKeyDown = (e: KeyboardEvent) => {
    const i = keys.indexOf(props.selected);
    let next: number | undefined;
    if (e.key === 'ArrowRight' || e.key === 'ArrowDown') next = (i + 1) % keys.length;
    else if (e.key === 'ArrowLeft' || e.key === 'ArrowUp') next = (i - 1 + keys.length) % keys.length;
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = keys.length - 1;
    if (next === undefined) return;
    e.preventDefault();
    const key = keys[next]!;
    props.onSelect(key);
    refs.current[key]?.focus();
  };

  return (
    <>
      <div class="tablist" role="tablist" aria-label={props.label} onKeyDown={onKeyDown}>
        {props.tabs.map((tab) => {
          const active = tab.key === props.selected;
          return (
            <button
              key={tab.key}
              ref={(el) => {
                refs.current[tab.key] = el;
              }}
              type="button"
              role="tab"
              id={`${props.idPrefix}-tab-${tab.key}`}
              aria-controls={`${props.idPrefix}-panel-${tab.key}`}
              aria-selected={active}
              tabIndex={active ? 0 : -1}
              class="tab"
              onClick={() => props.onSelect(tab.key)}
            >
              {tab.icon !== undefined && (
                <span class="tab-icon" aria-hidden="true">
                  {tab.icon}
                </span>
              )}
              <span class="tab-label">{tab.label}</span>
              {tab.short !== undefined && (
                <span class="tab-short" aria-hidden="true">
                  {tab.short}
                </span>
              )}
              {tab.badge !== undefined && tab.badge > 0 && (
                <span class="tab-badge" aria-hidden="true" data-testid={`tab-badge-${tab.key}`}>
                  {tab.badge}
                </span>
              )}
            </button>
          );
        })}
      </div>
      {props.tabs.map((tab) =>
        props.visited.has(tab.key) || tab.key === props.selected ? (
          <div
            key={tab.key}
            role="tabpanel"
            id={`${props.idPrefix}-panel-${tab.key}`}
            aria-labelledby={`${props.idPrefix}-tab-${tab.key}`}
            tabIndex={0}
            hidden={tab.key !== props.selected}
            class="tabpanel"
          >
            {props.render(tab.key)}
          </div>
        ) : null,
      )}
    </>
  );
}
