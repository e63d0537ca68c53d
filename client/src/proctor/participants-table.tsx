/**
 * The participants table (participants.tsx holds the tab around it): sortable headers and the
 * rows of the window in view (use-row-window.ts). Both are memoised: with 1,000 examinees and
 * ~20 row changes a second, a frame re-renders only the rows in view whose row object changed
 * (live.ts replaces a changed row, keeps the others), and opening a row's actions dialog does not
 * re-render the table at all. So every prop is either data that changes when the table must, or
 * stable (the handlers behind a ref, arrays kept while their items are the same).
 */
import { Component, type ComponentChildren, type FunctionComponent, type Ref } from 'preact';
import { useRef } from 'preact/hooks';
import { t } from '../i18n';
import type { ExamInfo, ParticipantColumn, ParticipantRow } from './api';
import { cell } from './participant-cells';
import { MaxDownloadsCell, PersonalInfo, type MaxDownloadsChange, type Revealed } from './row-controls';
import { RowKeys } from './row-keys';

const P = t.proctor.participants;

/** The table's order: a column and a direction. */
export interface TableSort {
  column: ParticipantColumn;
  dir: 'asc' | 'desc';
}

/** What the rows' controls call; one object for the tab's life (see useRowHandlers). */
export interface RowHandlers {
  onActions: (studentId: string) => void;
  onTogglePersonal: (row: ParticipantRow) => void;
  onChangeMax: (row: ParticipantRow, change: MaxDownloadsChange, undo?: () => void) => void;
}

/** Stable handlers that call the latest ones given (a memoised row never holds a stale one). */
export function useRowHandlers(latest: RowHandlers): RowHandlers {
  const ref = useRef(latest);
  ref.current = latest;
  const stable = useRef<RowHandlers | undefined>(undefined);
  stable.current ??= {
    onActions: (studentId) => ref.current.onActions(studentId),
    onTogglePersonal: (row) => ref.current.onTogglePersonal(row),
    onChangeMax: (row, change, undo) => ref.current.onChangeMax(row, change, undo),
  };
  return stable.current;
}

/** `next` itself, or the array of the last render when it holds the same items in the same order. */
export function useSameArray<T>(next: readonly T[]): readonly T[] {
  const ref = useRef(next);
  const prev = ref.current;
  if (prev !== next && (prev.length !== next.length || prev.some((x, i) => x !== next[i]))) ref.current = next;
  return ref.current;
}

/** What a cell shows in the table and on a card: max downloads are edited in theirs. */
export function cellContent(
  row: ParticipantRow,
  c: ParticipantColumn,
  o: { info: ExamInfo; now: number; editMax: boolean; maxBusy: boolean; handlers: RowHandlers },
): ComponentChildren {
  return c === 'maxDownloads' ? (
    <MaxDownloadsCell row={row} editable={o.editMax} busy={o.maxBusy} onChange={o.handlers.onChangeMax} />
  ) : (
    cell(row, c, o.info, o.now)
  );
}

/** Whether two props objects differ in any value (Preact's memo rule, without preact/compat). */
function differ(a: object, b: object): boolean {
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  for (const k in x) if (!(k in y)) return true;
  for (const k in y) if (x[k] !== y[k]) return true;
  return false;
}

/** `C`, re-rendered only when one of its props changed (preact/compat's memo, without compat). */
export function memoised<P extends object>(C: FunctionComponent<P>): FunctionComponent<P> {
  class Memoised extends Component<P> {
    override shouldComponentUpdate(next: P): boolean {
      return differ(this.props, next);
    }

    override render() {
      return <C {...this.props} />;
    }
  }
  return Memoised as unknown as FunctionComponent<P>;
}

/**
 * A header cell that sorts by its column. The first click sorts ascending (by name, as the
 * table opens, it then stays ascending); each further click on the same header reverses.
 */
function SortHeader(props: {
  column: ParticipantColumn;
  /** The order shown (the default by name included), for aria-sort and the arrow. */
  shown: TableSort | undefined;
  /** The order a proctor chose by clicking, if any. */
  chosen: TableSort | undefined;
  onSort: (s: TableSort) => void;
}) {
  const { column, shown, chosen } = props;
  const dir = shown?.column === column ? shown.dir : undefined;
  const label = P.columns[column] ?? column;
  const next = chosen?.column === column && chosen.dir === 'asc' ? 'desc' : 'asc';
  return (
    <th
      scope="col"
      data-column={column}
      aria-sort={dir === undefined ? undefined : dir === 'asc' ? 'ascending' : 'descending'}
    >
      <button type="button" class="sort-button" onClick={() => props.onSort({ column, dir: next })}>
        {/* The arrow is drawn by CSS from aria-sort, so the header's text stays the column's name. */}
        {label}
      </button>
    </th>
  );
}

interface RowProps {
  row: ParticipantRow;
  /** aria-rowindex: the header row is 1. */
  rowIndex: number;
  columns: readonly ParticipantColumn[];
  /** The row's height when windowed, else undefined. */
  height: number | undefined;
  info: ExamInfo;
  now: number;
  editMax: boolean;
  maxBusy: boolean;
  revealed: { email: string | null; phone: string | null } | undefined;
  handlers: RowHandlers;
}

/** One examinee's row; re-rendered only when one of its props changed. */
class TableRow extends Component<RowProps> {
  override shouldComponentUpdate(next: RowProps): boolean {
    return differ(this.props, next);
  }

  override render() {
    const { row, columns, height, handlers } = this.props;
    return (
      <tr
        data-student={row.studentId}
        class={height === undefined ? `row-${row.status}` : `row-${row.status} fixed-height`}
        aria-rowindex={this.props.rowIndex}
        style={height === undefined ? undefined : { height: `${height}px` }}
      >
        {columns.map((c) =>
          c === 'name' ? (
            <th scope="row" key={c} data-column={c}>
              {row.name}
            </th>
          ) : (
            <td key={c} data-column={c}>
              {cellContent(row, c, this.props)}
            </td>
          ),
        )}
        <td class="personal-cell" data-column="personal">
          <PersonalInfo row={row} shown={this.props.revealed} onToggle={handlers.onTogglePersonal} />
        </td>
        <td class="actions-cell">
          <button
            type="button"
            class="secondary small"
            data-actions-for={row.studentId}
            aria-label={P.actionsFor(row.name)}
            onClick={() => handlers.onActions(row.studentId)}
          >
            {/* One text node: a row is redrawn for another examinee on every search keystroke. */}
            {`✎ ${P.actions}`}
          </button>
        </td>
      </tr>
    );
  }
}

export interface TableProps {
  /** Every row shown, in order; those from `start` to `end` (exclusive) are rendered. */
  shown: readonly ParticipantRow[];
  /** Which list `shown` is (its filter, search and order): a new one patches the rows in place (row-keys.ts). */
  list: string;
  start: number;
  end: number;
  padTop: number;
  padBottom: number;
  rowHeight: number;
  columns: readonly ParticipantColumn[];
  shownSort: TableSort | undefined;
  chosenSort: TableSort | undefined;
  onSort: (s: TableSort) => void;
  info: ExamInfo;
  now: number;
  editMax: boolean;
  maxBusy: boolean;
  revealed: Revealed;
  handlers: RowHandlers;
  scrollerRef: Ref<HTMLDivElement>;
}

/** The examinee whose row holds the focus, if any. */
function focusedStudent(): string | undefined {
  const active = document.activeElement;
  return active?.closest('tr[data-student]')?.getAttribute('data-student') ?? undefined;
}

/** The table in its scroll container; re-rendered only when one of its props changed. */
export class ParticipantsTable extends Component<TableProps> {
  private readonly rowKeys = new RowKeys();
  private list: string | undefined;

  override shouldComponentUpdate(next: TableProps): boolean {
    return differ(this.props, next);
  }

  override render() {
    const p = this.props;
    const windowed = p.padTop > 0 || p.padBottom > 0;
    const span = p.columns.length + 2;
    const rows = p.shown.slice(p.start, p.end);
    const keys = this.rowKeys.assign(
      rows.map((r) => r.studentId),
      focusedStudent(),
      this.list !== undefined && this.list !== p.list,
    );
    this.list = p.list;
    return (
      <div class="table-scroll" role="region" aria-label={P.scrollRegion} tabIndex={0} ref={p.scrollerRef}>
        <table class="participants-table" data-testid="participants-table" aria-rowcount={p.shown.length + 1}>
          <caption class="visually-hidden">{P.tableCaption}</caption>
          <thead>
            <tr aria-rowindex={1}>
              {p.columns.map((c) => (
                <SortHeader key={c} column={c} shown={p.shownSort} chosen={p.chosenSort} onSort={p.onSort} />
              ))}
              <th scope="col" class="personal-cell">
                {P.personalHeading}
              </th>
              <th scope="col" class="actions-cell">
                {P.actions}
              </th>
            </tr>
          </thead>
          <tbody>
            {p.padTop > 0 && (
              <tr aria-hidden="true" class="spacer" style={{ height: `${p.padTop}px` }}>
                <td colSpan={span} />
              </tr>
            )}
            {rows.map((row, i) => (
              <TableRow
                key={keys[i]}
                row={row}
                rowIndex={p.start + i + 2}
                columns={p.columns}
                height={windowed ? p.rowHeight : undefined}
                info={p.info}
                now={p.now}
                editMax={p.editMax}
                maxBusy={p.maxBusy}
                revealed={p.revealed.get(row.studentId)}
                handlers={p.handlers}
              />
            ))}
            {p.padBottom > 0 && (
              <tr aria-hidden="true" class="spacer" style={{ height: `${p.padBottom}px` }}>
                <td colSpan={span} />
              </tr>
            )}
          </tbody>
        </table>
      </div>
    );
  }
}
