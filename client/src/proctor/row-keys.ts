/**
 * The keys of the rendered rows, so that a new list (a search keystroke, a filter chip) patches
 * the rows' elements instead of removing them and creating others: each examinee in the window
 * keeps their key while they stay in it (their row, its focus and its typed text follow them as
 * the order changes), and the keys of those who left are handed, in their order, to those who
 * came. The row holding the focus is never handed on: it goes, and the focus with it, as it would
 * with a key per examinee, rather than stay on a control that now acts for someone else.
 */
export class RowKeys {
  private readonly keys = new Map<string, number>();
  private order: readonly string[] = [];
  private next = 0;

  /** The keys of `ids` (in the window's order); `focused` is the examinee whose row has the focus. */
  assign(ids: readonly string[], focused: string | undefined): number[] {
    const staying = new Set(ids);
    const free: number[] = [];
    for (const id of this.order) {
      if (staying.has(id)) continue;
      const key = this.keys.get(id);
      this.keys.delete(id);
      if (key !== undefined && id !== focused) free.push(key);
    }
    let f = 0;
    const out = ids.map((id) => {
      let key = this.keys.get(id);
      if (key === undefined) {
        key = f < free.length ? free[f++]! : this.next++;
        this.keys.set(id, key);
      }
      return key;
    });
    this.order = ids;
    return out;
  }
}
