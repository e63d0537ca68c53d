/**
 * The participants in the table's order, kept between renders: when the live rows change (at
 * most once a frame, row-batch.ts), only the rows that changed are put back in their place
 * (domain/monitor.ts placeChangedRows) instead of sorting 1,000 rows again; a new order sorts.
 */
import { useMemo, useRef } from 'preact/hooks';
import { placeChangedRows, sortRows, type SortKey } from '../../../domain/monitor.js';
import type { ParticipantRow } from './api';

interface Sorted {
  rows: readonly ParticipantRow[];
  sort: SortKey | undefined;
  dir: 'asc' | 'desc' | undefined;
  sorted: ParticipantRow[];
}

/** `rows` sorted by `sort` (by name when unset) in direction `dir`. */
export function useSortedRows(
  rows: readonly ParticipantRow[],
  sort: SortKey | undefined,
  dir: 'asc' | 'desc' | undefined,
): ParticipantRow[] {
  const last = useRef<Sorted | undefined>(undefined);
  return useMemo(() => {
    const prev = last.current;
    const order = { sort, dir };
    const sorted =
      prev !== undefined && prev.sort === sort && prev.dir === dir
        ? placeChangedRows(prev.sorted, prev.rows, rows, order)
        : sortRows(rows, order);
    last.current = { rows, sort, dir, sorted };
    return sorted;
  }, [rows, sort, dir]);
}
