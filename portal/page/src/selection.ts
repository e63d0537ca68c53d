/** Which exam's examinees, in which hall, the page shows. */
export interface Selection {
  hallId: string;
  examId: string;
}
