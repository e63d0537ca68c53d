/**
 * The errors of an import (exam file, roster): each located by 1-based line and column (columns
 * count characters) and a `path` like `sections[0].questions[2].answerKey`, with short messages
 * for zod's issues that say what to write. formatImportErrors prints them as
 * `file:line:column path: message`, the form editors and CI logs link to.
 */
import type { z } from 'zod';

/** One fault in an imported file, located for a person with an editor. */
export interface ImportError {
  /** 1-based line in the file (after a BOM, which is ignored). */
  line: number;
  /** 1-based column, in characters. */
  column: number;
  /** Where in the document, e.g. `sections[0].questions[2].answerKey`; '' for the whole file. */
  path: string;
  message: string;
}

/** A zod issue, as the messages below read it. */
export type Issue = z.core.$ZodIssue;

// ---------------------------------------------------------------------------------------------
// Positions

/** A 1-based line and column in a file. */
export interface Position {
  line: number;
  column: number;
}

/** Maps offsets in `text` to 1-based line and column; \n, \r\n and \r all end a line, as in jsonc-parser. */
export function positionsOf(text: string): (offset: number) => Position {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 13 /* \r */ && text.charCodeAt(i + 1) === 10) continue; // the \n of \r\n ends the line
    if (c === 10 || c === 13) lineStarts.push(i + 1);
  }
  return (offset) => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    const start = lineStarts[lo] ?? 0;
    // Count code points so that an emoji or a rare CJK character counts as one column, as editors do.
    return { line: lo + 1, column: [...text.slice(start, offset)].length + 1 };
  };
}

/** The text without a leading UTF-8 byte order mark. */
export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

// ---------------------------------------------------------------------------------------------
// Paths and messages

/** Renders a path as a JavaScript accessor: `sections[0].questions[2].answerKey`. */
export function renderPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** The JSON path segments of a zod issue path (symbols dropped). */
export function pathKeys(path: readonly PropertyKey[]): (string | number)[] {
  return path.filter((p): p is string | number => typeof p === 'string' || typeof p === 'number');
}

/** The JSON kind of a value, as zod names it in "expected X". */
function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** A short rendering of a value for a message (the person sees what they wrote). */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

/** `n word` or `n words`. */
export function plural(n: number | bigint, word: string): string {
  return `${n} ${word}${n === 1 || n === 1n ? '' : 's'}`;
}

/**
 * A message for a zod issue about a value that is present. Zod's defaults ("Invalid input: ...")
 * are replaced by short ones that say what to write; custom messages from the schema are kept.
 */
export function issueMessage(issue: Issue, value: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.expected === 'int') return `expected a whole number, received ${describeValue(value)}`;
      return `expected ${issue.expected}, received ${kindOf(value)}`;
    case 'invalid_value': {
      const values = issue.values.map((v) => JSON.stringify(v));
      if (values.length === 1) return `must be ${values[0] ?? ''}, received ${describeValue(value)}`;
      return `expected one of ${values.join(', ')}, received ${describeValue(value)}`;
    }
    case 'invalid_union':
      if (issue.inclusive !== false && issue.discriminator !== undefined && issue.options !== undefined) {
        const options = issue.options.map((o) => JSON.stringify(o)).join(', ');
        return `expected ${issue.discriminator} to be one of ${options}, received ${describeValue(value)}`;
      }
      return issue.message;
    case 'too_small': {
      const min = issue.minimum;
      const exclusive = issue.inclusive === false;
      if (issue.origin === 'string')
        return min === 1 && !exclusive ? 'must not be empty' : `must be at least ${plural(min, 'character')}`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must have at least ${plural(min, 'item')}`;
      if (issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint') {
        return exclusive
          ? `must be greater than ${min}, received ${describeValue(value)}`
          : `must be at least ${min}, received ${describeValue(value)}`;
      }
      return issue.message;
    }
    case 'too_big': {
      const max = issue.maximum;
      const exclusive = issue.inclusive === false;
      if (issue.origin === 'string') return `must be at most ${plural(max, 'character')}`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must have at most ${plural(max, 'item')}`;
      if (issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint') {
        return exclusive
          ? `must be less than ${max}, received ${describeValue(value)}`
          : `must be at most ${max}, received ${describeValue(value)}`;
      }
      return issue.message;
    }
    case 'invalid_format':
      // The schema's own messages ("must look like 1.2.3") are better than anything generic.
      if (!issue.message.startsWith('Invalid')) return issue.message;
      if (issue.format === 'email') return `must be an email address, received ${describeValue(value)}`;
      if (issue.format === 'regex' && issue.pattern !== undefined)
        return `must match ${issue.pattern}, received ${describeValue(value)}`;
      return `must be a valid ${issue.format}, received ${describeValue(value)}`;
    default:
      return issue.message;
  }
}

/** Sorts errors in place by line, then column, and returns them. */
export function sortErrors(errors: ImportError[]): ImportError[] {
  return errors.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Errors as `file:line:column path: message`, one per line, the form editors and CI logs link to. */
export function formatImportErrors(fileName: string, errors: readonly ImportError[]): string {
  return errors
    .map((e) => `${fileName}:${e.line}:${e.column} ${e.path === '' ? '' : `${e.path}: `}${e.message}`)
    .join('\n');
}
