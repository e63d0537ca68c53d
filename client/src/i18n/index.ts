/**
 * The catalogue for this browser's language: every `*.ts` file beside this one that exports a
 * `catalogue` is a language (en.ts is the fallback), matched against navigator.languages. Tests
 * (`*.test.ts`) are not languages and stay out of the bundle.
 */
import { en, type Catalogue } from './en';

const FILES = import.meta.glob<{ catalogue?: Catalogue }>(['./*.ts', '!./index.ts', '!./*.test.ts'], {
  eager: true,
});
const BY_LANG = new Map<string, Catalogue>();
for (const file of Object.values(FILES)) if (file.catalogue) BY_LANG.set(file.catalogue.lang, file.catalogue);

function choose(languages: readonly string[]): Catalogue {
  for (const tag of languages) {
    const exact = BY_LANG.get(tag);
    if (exact) return exact;
    const base = BY_LANG.get(tag.split('-')[0] ?? '');
    if (base) return base;
  }
  return en;
}

export const t: Catalogue = choose(typeof navigator === 'undefined' ? [] : navigator.languages);

/** Sets the page's language and direction from the catalogue. */
export function applyLanguage(doc: Document): void {
  doc.documentElement.lang = t.lang;
  doc.documentElement.dir = t.dir;
}
