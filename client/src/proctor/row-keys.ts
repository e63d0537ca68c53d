/**
 * The keys of the rendered rows, so that the table patches its rows' elements instead of removing
 * them and creating others. Two ways, by what changed:
 *
 * - **The same list, changed** (a live update moves an examinee, the window scrolls further): each
 *   examinee in the window keeps their key while they stay in it (their row, its focus and its
 *   typed text follow them; a row a person or a test is about to click stays theirs), and the keys
 *   of those who left are handed, in their order, to those who came.
 * - **A new list** (a search keystroke, a filter chip, an order): every row stays in its place and
 *   shows whoever is there now. Moving an element with buttons and fields in it is not free:
 *   besides the layout, Chromium's autofill then scans every form control of the page again (14 ms
 *   at the median, up to 34 ms, at bench:dashboard's 4× throttle), and a keystroke would move most
 *   rows.
 *
 * Either way, the row holding the focus is never handed on: it follows its examinee, or goes (and
 * the focus with it) when they leave the window, rather than stay on a control that now acts for
 * someone else.
 */
export class RowKeys {
  private keys = new Map<string, number>();
  /** The last render's examinees and keys, in the table's order. */
  private order: readonly string[] = [];
  private slots: readonly number[] = [];
  private next = 0;

  /**
   * The keys of `ids` (in the window's order); `focused` is the examinee whose row has the focus;
   * `newList` when the rows are of a new search, filter or order rather than the list shown.
   */
  assign(ids: readonly string[], focused: string | undefined, newList = false): number[] {
    const out = newList ? this.inPlace(ids, focused) : this.following(ids, focused);
    this.keys = new Map(ids.map((id, i) => [id, out[i]!]));
    this.order = ids;
    this.slots = out;
    return out;
  }

  private following(ids: readonly string[], focused: string | undefined): number[] {
    const staying = new Set(ids);
    const free: number[] = [];
    for (const id of this.order) {
      const key = this.keys.get(id);
      if (!staying.has(id) && key !== undefined && id !== focused) free.push(key);
    }
    let f = 0;
    return ids.map((id) => this.keys.get(id) ?? free[f++] ?? this.next++);
  }

  private inPlace(ids: readonly string[], focused: string | undefined): number[] {
    const focusedKey = focused === undefined ? undefined : this.keys.get(focused);
    // The places in order, without the focused row's: it follows its examinee, or goes.
    const places = focusedKey === undefined ? this.slots : this.slots.filter((k) => k !== focusedKey);
    let p = 0;
    return ids.map((id) => (id === focused && focusedKey !== undefined ? focusedKey : (places[p++] ?? this.next++)));
  }
}
