/**
 * Strict JSON with positions, for import: no comments, no trailing commas, no duplicate member
 * names (JSON.parse would keep the last silently), and every fault, syntax or schema, located at
 * its line and column (jsonc-parser's tree gives the offsets).
 */
import {
  findNodeAtLocation,
  getNodePath,
  getNodeValue,
  parseTree,
  printParseErrorCode,
  type JSONPath,
  type Node as JsonNode,
  type ParseError,
} from 'jsonc-parser';
import {
  issueMessage,
  pathKeys,
  positionsOf,
  renderPath,
  stripBom,
  type ImportError,
  type Issue,
  type Position,
} from './import-errors.js';

/** A JSON text read with positions: its tree, its value and where each offset is. */
export interface LocatedJson {
  root: JsonNode;
  value: unknown;
  at: (offset: number) => Position;
  /** Faults found while reading that do not stop validation (duplicate member names). */
  errors: ImportError[];
}

// Keyed by printParseErrorCode's names: ParseErrorCode is a const enum, which isolatedModules forbids.
const SYNTAX_MESSAGES: Record<string, string> = {
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'expected a field name in double quotes',
  ValueExpected: 'expected a value',
  ColonExpected: "expected ':' after the field name",
  CommaExpected: "expected ',' before this",
  CloseBraceExpected: "expected '}' to close the object",
  CloseBracketExpected: "expected ']' to close the array",
  EndOfFileExpected: 'unexpected text after the end of the JSON value',
  InvalidCommentToken: 'comments are not allowed in JSON',
  UnexpectedEndOfComment: 'comments are not allowed in JSON',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'incomplete number',
  InvalidUnicode: 'invalid \\u escape',
  InvalidEscapeCharacter: 'invalid escape sequence',
  InvalidCharacter: 'control characters in strings must be escaped (\\n, \\t, ...)',
};

/** Where the previous non-blank character before `offset` is, or -1. */
function previousNonBlank(text: string, offset: number): number {
  let i = offset - 1;
  while (i >= 0 && /\s/.test(text[i] ?? '')) i--;
  return i;
}

function syntaxErrors(text: string, parseErrors: ParseError[], at: (offset: number) => Position): ImportError[] {
  const out: ImportError[] = [];
  const linesSeen = new Set<number>();
  for (const e of [...parseErrors].sort((a, b) => a.offset - b.offset)) {
    let offset = e.offset;
    const code = printParseErrorCode(e.error);
    let message = SYNTAX_MESSAGES[code] ?? 'syntax error';
    if (code === 'InvalidSymbol') {
      const found = text.slice(offset, offset + Math.min(e.length, 20));
      message = found.startsWith("'")
        ? `unexpected ${found}: strings and field names need double quotes`
        : `unexpected ${found}`;
    }
    if (code === 'PropertyNameExpected' || code === 'ValueExpected') {
      const before = previousNonBlank(text, offset);
      if ((text[offset] === '}' || text[offset] === ']') && text[before] === ',') {
        offset = before;
        message = 'trailing comma is not allowed in JSON';
      }
    }
    const pos = at(offset);
    // One error per line: the parser's follow-up complaints about the same fault are noise.
    if (linesSeen.has(pos.line)) continue;
    linesSeen.add(pos.line);
    out.push({ ...pos, path: '', message });
  }
  return out;
}

/** Member names that appear twice in one object: JSON.parse keeps the last silently, we refuse. */
function duplicateMemberErrors(node: JsonNode, at: (offset: number) => Position, out: ImportError[]): void {
  if (node.type === 'object') {
    const first = new Map<string, JsonNode>();
    for (const property of node.children ?? []) {
      const key = property.children?.[0];
      if (key === undefined || typeof key.value !== 'string') continue;
      const name: string = key.value;
      const earlier = first.get(name);
      if (earlier === undefined) first.set(name, key);
      else {
        out.push({
          ...at(key.offset),
          path: renderPath([...getNodePath(node), name]),
          message: `duplicate field "${name}" (first on line ${at(earlier.offset).line})`,
        });
      }
    }
  }
  for (const child of node.children ?? []) duplicateMemberErrors(child, at, out);
}

/**
 * Reads `rawText` (a BOM ignored) as strict JSON: its syntax errors, or the value with its tree and
 * the faults that do not stop validation (duplicate member names).
 */
export function readStrictJson(
  rawText: string,
): { ok: true; json: LocatedJson } | { ok: false; errors: ImportError[] } {
  const text = stripBom(rawText);
  const at = positionsOf(text);
  if (text.trim() === '')
    return { ok: false, errors: [{ line: 1, column: 1, path: '', message: 'the file is empty' }] };
  const parseErrors: ParseError[] = [];
  const root = parseTree(text, parseErrors, {
    disallowComments: true,
    allowTrailingComma: false,
    allowEmptyContent: false,
  });
  if (parseErrors.length > 0 || root === undefined) return { ok: false, errors: syntaxErrors(text, parseErrors, at) };
  const errors: ImportError[] = [];
  duplicateMemberErrors(root, at, errors);
  const value: unknown = getNodeValue(root);
  return { ok: true, json: { root, value, at, errors } };
}

/** The node at `path`, or the nearest existing ancestor and the segments that are missing below it. */
function nearestNode(root: JsonNode, path: JSONPath): { node: JsonNode; missing: JSONPath } {
  for (let depth = path.length; depth > 0; depth--) {
    const node = findNodeAtLocation(root, path.slice(0, depth));
    if (node !== undefined) return { node, missing: path.slice(depth) };
  }
  return { node: root, missing: [...path] };
}

/** Locates zod issues (paths relative to `prefix`) in the JSON tree. */
export function jsonIssueErrors(issues: readonly Issue[], prefix: JSONPath, json: LocatedJson): ImportError[] {
  const out: ImportError[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...pathKeys(issue.path)];
    if (issue.code === 'unrecognized_keys') {
      // Point at each unknown member's name, where the typo is.
      const objectNode = nearestNode(json.root, path).node;
      for (const key of issue.keys) {
        const keyNode = objectNode.children?.find((p) => p.children?.[0]?.value === key)?.children?.[0];
        out.push({
          ...json.at((keyNode ?? objectNode).offset),
          path: renderPath([...path, key]),
          message: `unknown field "${key}"`,
        });
      }
      continue;
    }
    const { node, missing } = nearestNode(json.root, path);
    const last = missing[missing.length - 1];
    let message: string;
    if (missing.length === 0) message = issueMessage(issue, getNodeValue(node) as unknown);
    else if (missing.length === 1 && typeof last === 'string' && issue.code !== 'custom')
      message = `missing required field "${last}"`;
    else message = issue.message;
    out.push({ ...json.at(node.offset), path: renderPath(path), message });
  }
  return out;
}
