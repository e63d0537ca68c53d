/**
 * The Participants tab: the live rows with the progress picture, status filter chips with
 * counts, search by name or student id (case and accents ignored, over the live rows, with the
 * same rule as the appliance: domain/monitor.ts queryRows), column management saved per proctor
 * on the appliance, a table on wide screens and cards on phones, and per-row actions.
 *
 * The table sorts by any column (its header is a button; aria-sort on the header cell) and, for
 * a big hall, renders only the rows in view (use-row-window.ts), with the header row and the name
 * column sticky in its scroll container. On a tablet held upright the key columns (name, status,
 * downloads, upload, time left) come first, so they fit beside the sticky actions column.
 *
 * Print (the Print button, or the browser's own): the exam title, the time printed, the tracking
 * totals and every row shown, as a table: windowing is off while printing (beforeprint, or the
 * print media query), and proctor.css hides the controls.
 */
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import type { AttentionItem } from '../../../domain/attention.js';
import { EXAMINEE_STATUSES } from '../../../domain/examinee-state.js';
import {
  COLUMN_SORT_KEYS,
  DEFAULT_COLUMNS,
  offeredColumns,
  queryRows,
  rowMatcher,
  statusCounts,
} from '../../../domain/monitor.js';
import { mayPerform } from '../../../domain/proctor-roles.js';
import { t } from '../i18n';
import {
  columnPreferences,
  revealContact,
  rowAction,
  saveColumnPreferences,
  type ParticipantColumn,
  type ParticipantRow,
} from './api';
import { dateTime, STATUS_ICONS } from './format';
import { useApplianceNow, type MonitorData } from './live';
import { ProgressPicture } from './progress-picture';
import {
  cellContent,
  memoised,
  ParticipantsTable,
  useRowHandlers,
  useSameArray,
  type RowHandlers,
  type TableSort,
} from './participants-table';
import { RowActions, type Acting } from './row-actions';
import { useLatest } from '../shared/use-latest';
import { LowerMaxDialog, nextMax, PersonalInfo, type MaxDownloadsChange, type Revealed } from './row-controls';
import type { StatusFilter } from './route';
import { TrackingTotals } from './tracking-totals';
import { SUMMARY_EVERY_MS, useAtMostEvery } from './use-at-most-every';
import { useRowWindow } from './use-row-window';
import { useSortedRows } from './use-sorted-rows';

const P = t.proctor.participants;
/** The open dialog re-renders when its row, the time or the exam changes, not on every frame. */
const RowActionsMemo = memoised(RowActions);

/** Wide enough for a table (a tablet); narrower gets cards. */
const TABLE_QUERY = '(min-width: 48rem)';

function useMediaQuery(query: string): boolean {
  const [matches, setMatches] = useState(() => window.matchMedia(query).matches);
  useEffect(() => {
    const list = window.matchMedia(query);
    const update = () => setMatches(list.matches);
    update();
    list.addEventListener('change', update);
    return () => list.removeEventListener('change', update);
  }, [query]);
  return matches;
}

/** A tablet held upright (or narrower): the key columns first. */
const TABLET_QUERY = '(max-width: 64rem)';
const KEY_COLUMNS: readonly ParticipantColumn[] = ['name', 'status', 'downloads', 'upload', 'timeLeft'];

/** The chosen columns, those of KEY_COLUMNS among them first (in that order). */
function keyColumnsFirst(columns: readonly ParticipantColumn[]): ParticipantColumn[] {
  return [...KEY_COLUMNS.filter((c) => columns.includes(c)), ...columns.filter((c) => !KEY_COLUMNS.includes(c))];
}

/**
 * Whether the page is being printed, and since when: from `beforeprint` (window.print(), the
 * browser's menu) to `afterprint`, or while the print media query matches.
 */
function usePrinting(): { printing: boolean; at: number } {
  const media = useMediaQuery('print');
  const [event, setEvent] = useState(false);
  const [at, setAt] = useState(() => Date.now());
  useEffect(() => {
    const before = () => {
      setAt(Date.now());
      setEvent(true);
    };
    const after = () => setEvent(false);
    addEventListener('beforeprint', before);
    addEventListener('afterprint', after);
    return () => {
      removeEventListener('beforeprint', before);
      removeEventListener('afterprint', after);
    };
  }, []);
  useEffect(() => {
    if (media) setAt(Date.now());
  }, [media]);
  return { printing: media || event, at };
}

function ColumnManager(props: {
  columns: readonly ParticipantColumn[];
  /** The columns these rows offer (offeredColumns). */
  available: readonly ParticipantColumn[];
  onSaved: (columns: ParticipantColumn[]) => void;
}) {
  const [chosen, setChosen] = useState<ParticipantColumn[]>(() => [...props.columns]);
  const [note, setNote] = useState<{ ok: boolean; text: string } | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  // Chosen columns in their order, then the others in the catalogue's order.
  const order = [...chosen, ...props.available.filter((c) => !chosen.includes(c))];

  const toggle = (c: ParticipantColumn, on: boolean) =>
    setChosen((cur) => (on ? [...cur, c] : cur.filter((x) => x !== c)));
  const move = (c: ParticipantColumn, by: -1 | 1) =>
    setChosen((cur) => {
      const i = cur.indexOf(c);
      const j = i + by;
      if (i < 0 || j < 0 || j >= cur.length) return cur;
      const next = cur.slice();
      next[i] = cur[j]!;
      next[j] = c;
      return next;
    });
  const save = async () => {
    if (chosen.length === 0) {
      setNote({ ok: false, text: P.needOneColumn });
      return;
    }
    setBusy(true);
    const result = await saveColumnPreferences(chosen);
    setBusy(false);
    if (result.ok) {
      props.onSaved(result.body.columns);
      setNote({ ok: true, text: P.columnsSaved });
    } else setNote({ ok: false, text: result.message });
  };

  return (
    <fieldset class="column-manager" id="column-manager">
      <legend>{P.columnsHeading}</legend>
      <p class="muted">{P.columnsHint}</p>
      <ol class="column-list">
        {order.map((c) => {
          const i = chosen.indexOf(c);
          const label = P.columns[c] ?? c;
          return (
            <li key={c}>
              <label class="check">
                <input type="checkbox" checked={i >= 0} onChange={(e) => toggle(c, e.currentTarget.checked)} />
                {label}
              </label>
              {i >= 0 && (
                <span class="move">
                  <button
                    type="button"
                    class="secondary icon"
                    aria-label={P.moveUp(label)}
                    disabled={i === 0}
                    onClick={() => move(c, -1)}
                  >
                    ↑
                  </button>
                  <button
                    type="button"
                    class="secondary icon"
                    aria-label={P.moveDown(label)}
                    disabled={i === chosen.length - 1}
                    onClick={() => move(c, 1)}
                  >
                    ↓
                  </button>
                </span>
              )}
            </li>
          );
        })}
      </ol>
      <div class="button-row">
        <button type="button" onClick={save} disabled={busy}>
          {P.saveColumns}
        </button>
        <button
          type="button"
          class="secondary"
          onClick={() => setChosen(DEFAULT_COLUMNS.filter((c) => props.available.includes(c)))}
        >
          {P.resetColumns}
        </button>
      </div>
      <p role="status" class={note?.ok === false ? 'alert' : 'muted'}>
        {note?.text}
      </p>
    </fieldset>
  );
}

/** The rows with something waiting, oldest wait first, matching the search. */
function waitingRows(
  rows: readonly ParticipantRow[],
  attention: readonly AttentionItem[],
  q: string,
): ParticipantRow[] {
  const matches = rowMatcher({ q });
  const matching = new Map((matches === undefined ? rows : rows.filter(matches)).map((r) => [r.studentId, r]));
  const out: ParticipantRow[] = [];
  for (const a of attention) {
    const r = matching.get(a.studentId);
    if (r !== undefined && !out.includes(r)) out.push(r);
  }
  return out;
}

export function ParticipantsTab(props: {
  examId: string;
  data: MonitorData;
  chief: boolean;
  /** The status filter lives in the address (route.ts), so a reload or a sign-in keeps it. */
  status: StatusFilter;
  onStatus: (status: StatusFilter) => void;
  /** What waits (the monitor's useAttention), and whose action dialog is open: the toasts open it too. */
  attention: readonly AttentionItem[];
  acting: Acting | undefined;
  onActing: (acting: Acting | undefined) => void;
}) {
  const { data, status, onStatus: setStatus, attention, acting } = props;
  const info = data.info!;
  const [q, setQ] = useState('');
  const [columns, setColumns] = useState<ParticipantColumn[]>([...DEFAULT_COLUMNS]);
  const [managing, setManaging] = useState(false);
  const setActing = (studentId: string | undefined) =>
    props.onActing(studentId === undefined ? undefined : { studentId });
  const latestSetActing = useLatest(setActing);
  const closeActing = useCallback(() => latestSetActing.current(undefined), [latestSetActing]);
  // Unset: by name, or for the attention filter oldest wait first, until a header is clicked.
  const [sort, setSort] = useState<TableSort | undefined>(undefined);
  const [scroller, setScroller] = useState<HTMLDivElement | null>(null);
  const print = usePrinting();
  // Printing always gets the table, whole, whatever the screen's width.
  const wide = useMediaQuery(TABLE_QUERY) || print.printing;
  const tablet = useMediaQuery(TABLET_QUERY) && !print.printing;
  // Time left ticks every second; with a big hall, every 5 s spares the tablet redrawing 1,000 rows.
  const now = useApplianceNow(data.offsetMs, data.rows.length > 200 ? 5_000 : 1_000);

  useEffect(() => {
    void columnPreferences().then((r) => {
      if (r.ok && r.body.columns.length > 0) setColumns(r.body.columns);
    });
  }, []);

  const counts = useMemo(() => statusCounts(data.rows), [data.rows]);
  // All rows in the table's order, kept between frames (only changed rows move); the search and
  // the status filter then keep a sorted list sorted, so a keystroke filters and never sorts.
  const sortKey = sort === undefined ? undefined : COLUMN_SORT_KEYS[sort.column];
  const sorted = useSortedRows(data.rows, sortKey, sort?.dir);
  const shown = useMemo(() => {
    if (status !== 'attention') {
      const matches = rowMatcher({ q, status: status === 'all' ? undefined : status });
      return matches === undefined ? sorted : sorted.filter(matches);
    }
    const waiting = waitingRows(data.rows, attention, q);
    return sortKey === undefined ? waiting : queryRows(waiting, { sort: sortKey, dir: sort?.dir });
  }, [data.rows, sorted, q, status, attention, sortKey, sort?.dir]);
  const rowWindow = useRowWindow(wide ? scroller : null, shown.length);
  // A new order, search or filter starts at its top, as a person reading it expects.
  const { toTop } = rowWindow;
  const sortBy = useCallback(
    (next: TableSort) => {
      setSort(next);
      toTop();
    },
    [toTop],
  );
  const filterBy = (next: StatusFilter) => {
    setStatus(next);
    toTop();
  };
  const view = print.printing ? { ...rowWindow, start: 0, end: shown.length, padTop: 0, padBottom: 0 } : rowWindow;
  const actingRow = acting === undefined ? undefined : data.rows.find((r) => r.studentId === acting.studentId);
  const available = useSameArray(offeredColumns(data.rows));
  const offered = columns.filter((c) => available.includes(c));
  const tableColumns = useSameArray(tablet ? keyColumnsFirst(offered) : offered);
  const editMax = mayPerform(props.chief ? 'chief' : 'invigilator', 'max-downloads');
  const [maxBusy, setMaxBusy] = useState(false);
  const [note, setNote] = useState<{ ok: boolean; text: string } | undefined>(undefined);
  const [lowering, setLowering] = useState<
    { row: ParticipantRow; change: MaxDownloadsChange; undo: (() => void) | undefined } | undefined
  >(undefined);
  const [revealed, setRevealed] = useState<Revealed>(new Map());

  const saveMax = async (row: ParticipantRow, change: MaxDownloadsChange) => {
    setMaxBusy(true);
    const result = await rowAction(props.examId, row.studentId, 'max-downloads', change);
    setMaxBusy(false);
    if (result.ok) {
      data.applyRow(result.body.row);
      setNote({ ok: true, text: P.maxDownloadsSaved(row.name, result.body.row.maxDownloads) });
    } else setNote({ ok: false, text: result.message });
  };
  const changeMax = (row: ParticipantRow, change: MaxDownloadsChange, undo?: () => void) => {
    const next = nextMax(row, change);
    if (next < 0 || next > 100) setNote({ ok: false, text: P.maxDownloadsRange });
    else if (next < row.downloads && next < row.maxDownloads) setLowering({ row, change, undo });
    else void saveMax(row, change);
  };
  const togglePersonal = async (row: ParticipantRow) => {
    if (revealed.has(row.studentId)) {
      setRevealed((cur) => {
        const next = new Map(cur);
        next.delete(row.studentId);
        return next;
      });
      return;
    }
    const result = await revealContact(props.examId, row.studentId);
    if (result.ok) setRevealed((cur) => new Map(cur).set(row.studentId, result.body));
    else setNote({ ok: false, text: result.message });
  };
  const handlers: RowHandlers = useRowHandlers({
    onActions: setActing,
    onTogglePersonal: (row) => void togglePersonal(row),
    onChangeMax: changeMax,
  });
  const show = (row: ParticipantRow, c: ParticipantColumn) =>
    cellContent(row, c, { info, now, editMax, maxBusy, handlers });
  // The default order (by name, or oldest wait first) shown by the headers, kept between renders.
  const shownSort = useMemo<TableSort | undefined>(
    () => sort ?? (status === 'attention' ? undefined : { column: 'name', dir: 'asc' }),
    [sort, status],
  );

  // The same elements while rows and time stand still: opening a dialog does not redraw them. They
  // follow the live rows at most once a second (use-at-most-every.ts); the table follows each update.
  const summaryRows = useAtMostEvery(data.rows, SUMMARY_EVERY_MS);
  const summary = useMemo(
    () => (
      <>
        <TrackingTotals rows={summaryRows} info={info} headingId="participants-totals-heading" />
        <ProgressPicture rows={summaryRows} info={info} now={now} />
      </>
    ),
    [summaryRows, info, now],
  );

  return (
    <div class="participants">
      <p class="print-only print-head" data-testid="print-head">
        {P.printedAt(dateTime(print.at))}
      </p>
      {summary}

      <div class="chips" role="group" aria-label={P.filterLabel}>
        <button
          type="button"
          class="chip"
          aria-pressed={status === 'all'}
          onClick={() => filterBy('all')}
          data-testid="chip-all"
        >
          {P.chip(P.all, data.rows.length)}
        </button>
        <button
          type="button"
          class="chip"
          aria-pressed={status === 'attention'}
          onClick={() => filterBy(status === 'attention' ? 'all' : 'attention')}
          data-testid="chip-attention"
        >
          {P.chip(t.proctor.attention.chip, new Set(attention.map((a) => a.studentId)).size)}
        </button>
        {EXAMINEE_STATUSES.map((s) => (
          <button
            key={s}
            type="button"
            class={`chip status-${s}`}
            aria-pressed={status === s}
            onClick={() => filterBy(status === s ? 'all' : s)}
            data-testid={`chip-${s}`}
          >
            <span class="status-icon" aria-hidden="true">
              {STATUS_ICONS[s]}
            </span>
            {P.chip(t.proctor.statuses[s] ?? s, counts[s])}
          </button>
        ))}
      </div>

      <div class="participants-tools">
        <div class="field search">
          <label for="participant-search">{P.search}</label>
          <input
            id="participant-search"
            type="search"
            value={q}
            autocomplete="off"
            onInput={(e) => {
              setQ(e.currentTarget.value);
              toTop();
            }}
          />
        </div>
        <button
          type="button"
          class="secondary"
          aria-expanded={managing}
          aria-controls="column-manager"
          onClick={() => setManaging(!managing)}
        >
          <span aria-hidden="true">⚙ </span>
          {P.columnsButton}
        </button>
        <button type="button" class="secondary" onClick={() => window.print()} data-testid="print">
          {P.print}
        </button>
      </div>
      {managing && (
        <ColumnManager
          columns={tableColumns}
          available={available}
          onSaved={(c) => {
            setColumns(c);
          }}
        />
      )}

      <p role="status" class={note?.ok === false ? 'alert' : 'muted'} data-testid="participants-note">
        {note?.text}
      </p>
      <p class="muted" role="status" data-testid="participants-count">
        {P.showing(shown.length, data.rows.length)}
      </p>
      {shown.length === 0 && data.rows.length > 0 && <p>{P.noneMatch}</p>}

      {shown.length > 0 && wide && (
        <ParticipantsTable
          shown={shown}
          list={`${status}|${q}|${sort?.column ?? ''}|${sort?.dir ?? ''}`}
          start={view.start}
          end={view.end}
          padTop={view.padTop}
          padBottom={view.padBottom}
          rowHeight={view.rowHeight}
          columns={tableColumns}
          shownSort={shownSort}
          chosenSort={sort}
          onSort={sortBy}
          info={info}
          now={now}
          editMax={editMax}
          maxBusy={maxBusy}
          revealed={revealed}
          handlers={handlers}
          scrollerRef={setScroller}
        />
      )}

      {shown.length > 0 && !wide && (
        <ul class="participant-cards" data-testid="participant-cards">
          {shown.map((row) => (
            <li key={row.studentId} data-student={row.studentId} class={`card participant-card row-${row.status}`}>
              <h3>
                {row.name} <span class="muted">{row.studentId}</span>
              </h3>
              <dl>
                {columns
                  .filter((c) => c !== 'name' && c !== 'studentId')
                  .map((c) => (
                    <div key={c} data-column={c}>
                      <dt>{P.columns[c] ?? c}</dt>
                      <dd>{show(row, c)}</dd>
                    </div>
                  ))}
              </dl>
              <PersonalInfo row={row} shown={revealed.get(row.studentId)} onToggle={togglePersonal} />
              <button
                type="button"
                class="secondary"
                data-actions-for={row.studentId}
                aria-label={P.actionsFor(row.name)}
                onClick={() => setActing(row.studentId)}
              >
                {`✎ ${P.actions}`}
              </button>
            </li>
          ))}
        </ul>
      )}

      {lowering && (
        <LowerMaxDialog
          key={lowering.row.studentId}
          row={lowering.row}
          next={nextMax(lowering.row, lowering.change)}
          onCancel={() => {
            lowering.undo?.();
            setLowering(undefined);
          }}
          onConfirm={() => {
            const { row, change } = lowering;
            setLowering(undefined);
            void saveMax(row, change);
          }}
        />
      )}

      {actingRow && (
        <RowActionsMemo
          key={actingRow.studentId}
          examId={props.examId}
          row={actingRow}
          section={acting?.section}
          info={info}
          chief={props.chief}
          now={now}
          onRow={data.applyRow}
          onClose={closeActing}
        />
      )}
    </div>
  );
}
