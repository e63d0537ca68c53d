/**
 * Where the dashboard is, kept in the address so that a reload, Back and a sign-in after an
 * appliance restart come back to the same place. The format, in the hash (the service worker and
 * the appliance serve /proctor/ as one page, so the hash needs no server route):
 *
 *   #exam=<examId>&tab=<tab>&status=<filter>&examinee=<studentId>
 *
 * `tab` is one of the monitor's tabs (participants when missing or unknown); `status` is the
 * participants filter: an examinee status or `attention` (left out when it is "all");
 * `examinee` is whose action dialog is open (left out when none is). No `exam` means the exam list.
 */
import { EXAMINEE_STATUSES, type ExamineeStatus } from '../../../domain/examinee-state.js';

/** The monitor's tabs, in their order on screen. */
export const TAB_KEYS = ['info', 'participants', 'messages', 'preview', 'resume', 'sync'] as const;
export type TabKey = (typeof TAB_KEYS)[number];

/** The participants filter: everyone, one status, or what needs a proctor. */
export type StatusFilter = ExamineeStatus | 'all' | 'attention';
const FILTERS: readonly string[] = [...EXAMINEE_STATUSES, 'attention'];

export interface Place {
  examId: string;
  tab: TabKey;
  status: StatusFilter;
  /** Whose action dialog is open (row-actions.tsx); absent when none is. */
  examinee?: string;
}

/** The place a hash (with or without its leading '#') names, or undefined for the exam list. */
export function parsePlace(hash: string): Place | undefined {
  const params = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash);
  const examId = params.get('exam');
  if (examId === null || examId === '') return undefined;
  const tab = params.get('tab');
  const status = params.get('status');
  const examinee = params.get('examinee');
  return {
    examId,
    tab: TAB_KEYS.includes(tab as TabKey) ? (tab as TabKey) : 'participants',
    status: status !== null && FILTERS.includes(status) ? (status as StatusFilter) : 'all',
    ...(examinee === null || examinee === '' ? {} : { examinee }),
  };
}

/** The hash for a place ('' for the exam list); parsePlace(formatPlace(p)) equals p. */
export function formatPlace(place: Place | undefined): string {
  if (place === undefined) return '';
  const params = new URLSearchParams({ exam: place.examId, tab: place.tab });
  if (place.status !== 'all') params.set('status', place.status);
  if (place.examinee !== undefined) params.set('examinee', place.examinee);
  return `#${params.toString()}`;
}

/** Whether two places are the same (so that re-selecting the open tab adds no history entry). */
export function samePlace(a: Place | undefined, b: Place | undefined): boolean {
  return formatPlace(a) === formatPlace(b);
}
