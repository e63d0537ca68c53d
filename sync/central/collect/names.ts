/**
 * File names for collect's output. Exam, student and appliance ids, question ids and examinees'
 * own file names become path components that are safe on every disk the institution may copy the
 * result to, can never leave the output folder, and stay distinct where a disk ignores case.
 *
 * Rule for an id's component (exam and student folders, the appliance part of file names):
 * - It is the id itself when the id is 1-64 letters, digits, '.', '_' or '-', starts with a letter
 *   or digit, does not end with '.', and is not a reserved name (a Windows device name such as
 *   CON or NUL, or a name collect itself writes in that folder).
 * - Otherwise every other character becomes '_', it is cut to 48 characters, and `~` plus the
 *   first 10 hex digits of the SHA-256 of the id are appended: `a/b` → `a_b~<hash>`, `..` →
 *   `__~<hash>`. `~` is in no kept name, so a suffixed name never equals a kept one.
 * - When the kept names of two different ids in one folder would be equal ignoring case (`S1` and
 *   `s1`, or student `S1`'s `S1.answers.json` and student `S1.answers.json`'s folder), every one
 *   of them gets the suffix. The suffix depends on the id alone, so a name depends on the set of
 *   ids in its folder, never on the order they were read in.
 */
import { hash } from 'node:crypto';

const KEPT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const UNSAFE = /[^A-Za-z0-9._-]/g;
/** Windows refuses these as file names, with or without an extension. */
const DEVICE_NAMES = /^(?:con|prn|aux|nul|com[0-9]|lpt[0-9])(?:\.|$)/i;
const SUFFIX_HEX = 10;

/** `~` and the start of the SHA-256 of `id`. */
export const idSuffix = (id: string) => `~${hash('sha256', id, 'hex').slice(0, SUFFIX_HEX)}`;

/** Characters outside the safe set become '_'; a leading '.' or '-' and a trailing '.' too. */
function scrub(raw: string, max: number): string {
  const s = raw.replace(UNSAFE, '_').replace(/^[.-]/, '_').slice(0, max).replace(/\.$/, '_');
  return s === '' ? '_' : s;
}

/** The component of an id on its own: kept as it is, or scrubbed and suffixed (see the file's rule). */
export function idComponent(id: string, reserved: ReadonlySet<string> = new Set()): { name: string; kept: boolean } {
  const kept = KEPT.test(id) && !id.endsWith('.') && !DEVICE_NAMES.test(id) && !reserved.has(id.toLowerCase());
  return kept ? { name: id, kept } : { name: `${scrub(id, 48)}${idSuffix(id)}`, kept };
}

/**
 * A part of a file name that needs no uniqueness of its own (it follows a unique prefix), such as
 * an examinee's file name or a question id: scrubbed, cut to `max`, its extension kept.
 */
export function filePart(raw: string, max = 80): string {
  const dot = raw.lastIndexOf('.');
  const ext = dot > 0 && raw.length - dot <= 11 ? raw.slice(dot).replace(UNSAFE, '_') : '';
  const base = (ext === '' ? raw : raw.slice(0, dot)).replace(UNSAFE, '_').slice(0, max - ext.length);
  return `${base === '' ? '_' : base}${ext}`;
}

export interface FolderOptions {
  /** Names collect writes itself in the folder (compared ignoring case). */
  reserved?: readonly string[];
  /** Every name an id occupies in the folder, from its component (default: the component alone). */
  forms?: (name: string) => string[];
  /**
   * Also treat kept names as clashing when one is the other plus this separator plus more, so that
   * `<name><separator><number>...` file names stay unambiguous (`box` and `box-2`).
   */
  prefixSeparator?: string;
}

/** The names of the ids in one folder. */
export class FolderNames {
  private readonly names = new Map<string, string>();
  private readonly taken = new Map<string, string>();
  private readonly reserved: ReadonlySet<string>;
  private readonly forms: (name: string) => string[];

  private constructor(options: FolderOptions) {
    this.reserved = new Set((options.reserved ?? []).map((r) => r.toLowerCase()));
    this.forms = options.forms ?? ((name) => [name]);
    for (const r of this.reserved) this.taken.set(r, '');
  }

  /** Names every id of the set at once, by the rule above. */
  static plan(ids: Iterable<string>, options: FolderOptions = {}): FolderNames {
    const folder = new FolderNames(options);
    const unique = [...new Set(ids)].sort();
    const components = new Map(unique.map((id) => [id, idComponent(id, folder.reserved)]));
    const clashing = new Set<string>();
    const byForm = new Map<string, string>();
    for (const [id, c] of components) {
      if (!c.kept) continue;
      for (const form of folder.forms(c.name)) {
        const key = form.toLowerCase();
        const other = byForm.get(key);
        if (folder.reserved.has(key)) clashing.add(id);
        else if (other !== undefined && other !== id) clashing.add(id).add(other);
        else byForm.set(key, id);
      }
    }
    const separator = options.prefixSeparator;
    if (separator !== undefined) {
      const kept = [...components].filter(([, c]) => c.kept).map(([id, c]) => [id, c.name.toLowerCase()] as const);
      for (const [a, an] of kept)
        for (const [b, bn] of kept) if (a !== b && bn.startsWith(an + separator)) clashing.add(a).add(b);
    }
    for (const [id, c] of components) folder.add(id, clashing.has(id) ? `${c.name}${idSuffix(id)}` : c.name);
    return folder;
  }

  /**
   * The name of `id`; an id the plan did not know (it arrived while collect ran) gets the suffixed
   * form, which no other id can hold unless two ids share the 10 hex digits (then it throws).
   */
  nameOf(id: string): string {
    const known = this.names.get(id);
    if (known !== undefined) return known;
    const c = idComponent(id, this.reserved);
    const name = c.kept ? `${c.name}${idSuffix(id)}` : c.name;
    this.add(id, name);
    return name;
  }

  private add(id: string, name: string): void {
    for (const form of this.forms(name)) {
      const key = form.toLowerCase();
      const other = this.taken.get(key);
      if (other !== undefined && other !== id)
        throw new Error(`cannot give ${JSON.stringify(id)} and ${JSON.stringify(other)} distinct file names (${name})`);
      this.taken.set(key, id);
    }
    this.names.set(id, name);
  }
}
