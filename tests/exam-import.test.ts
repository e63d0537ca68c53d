import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { accessCodeHash } from '../domain/access-code.js';
import { CODE_ALPHABET, type QuestionType } from '../domain/exam-format.js';
import { parseExamFile, toExamDoc, toExamineeDoc } from '../domain/exam-import.js';
import { formatImportErrors, type ImportError } from '../domain/import-errors.js';
import { parseRoster, rosterFormatFromName } from '../domain/roster-import.js';

const example = (name: string) => readFileSync(new URL(`../examples/${name}`, import.meta.url), 'utf8');
const EXAM = example('exam-demo.json');
const ROSTER_CSV = example('roster-demo.csv');
const ROSTER_JSON = example('roster-demo.json');
const EXAM_ID = 'demo-physics-101';

/** 1-based line and column of the first occurrence of `needle` (plus `shift` characters). */
function positionOf(text: string, needle: string, shift = 0): { line: number; column: number } {
  const offset = text.indexOf(needle);
  if (offset < 0) throw new Error(`test setup: "${needle}" not in text`);
  const before = text.slice(0, offset + shift).split('\n');
  return { line: before.length, column: (before[before.length - 1] ?? '').length + 1 };
}

/** The demo exam with one substring replaced; fails loudly if the substring is not there. */
function editedExam(from: string, to: string): string {
  if (!EXAM.includes(from)) throw new Error(`test setup: "${from}" not in the demo exam`);
  return EXAM.replace(from, to);
}

function examErrors(text: string): ImportError[] {
  const result = parseExamFile(text);
  if (result.ok) throw new Error('expected the exam to be refused');
  return result.errors;
}

function rosterErrors(text: string, format: 'csv' | 'json' = 'csv'): ImportError[] {
  const result = parseRoster(text, format, EXAM_ID);
  if (result.ok) throw new Error('expected the roster to be refused');
  return result.errors;
}

describe('the examples', () => {
  it('the demo exam parses and has every question type', () => {
    const result = parseExamFile(EXAM);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { exam } = result;
    expect(exam.examId).toBe(EXAM_ID);
    expect(exam.title).toBe('Physics 101 — Midterm');
    const types = new Set<QuestionType>(exam.sections.flatMap((s) => s.questions.map((q) => q.type)));
    expect([...types].sort()).toEqual([
      'essay',
      'file',
      'multiple-choice',
      'numeric',
      'short-text',
      'single-choice',
      'true-false',
    ]);
    const start = Date.parse(exam.scheduledStart);
    expect(Date.parse(exam.downloadWindow.opens)).toBeLessThanOrEqual(start);
    expect(Date.parse(exam.downloadWindow.closes)).toBeGreaterThan(start);
  });

  it('the demo CSV roster parses: 30 examinees with well-formed access codes', () => {
    const result = parseRoster(ROSTER_CSV, 'csv', EXAM_ID);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.entries).toHaveLength(30);
    expect(new Set(result.entries.map((e) => e.studentId)).size).toBe(30);
    for (const e of result.entries) {
      expect(e.accessCode).toHaveLength(12);
      expect([...e.accessCode].every((c) => CODE_ALPHABET.includes(c))).toBe(true);
    }
    expect(result.entries[0]).toMatchObject({
      studentId: 'S1001',
      maxDownloads: 2,
      accommodationPercent: 0,
      seat: 'A1',
    });
    expect(result.entries.some((e) => e.accommodationPercent === 50)).toBe(true);
  });

  it('the demo JSON roster holds the CSV roster’s first three examinees', () => {
    const csv = parseRoster(ROSTER_CSV, 'csv', EXAM_ID);
    const json = parseRoster(ROSTER_JSON, 'json', EXAM_ID);
    expect(json.ok && csv.ok).toBe(true);
    if (!json.ok || !csv.ok) return;
    expect(json.entries).toEqual(csv.entries.slice(0, 3));
  });
});

describe('parseExamFile: syntax errors', () => {
  it('reports a missing comma at the member that follows it', () => {
    const text = editedExam('"lateLoginMinutes": 15,', '"lateLoginMinutes": 15');
    expect(examErrors(text)).toEqual([
      { ...positionOf(text, '"verificationMode"'), path: '', message: "expected ',' before this" },
    ]);
  });

  it('reports a trailing comma before a closing brace', () => {
    const text = editedExam('"answerKey": true\n', '"answerKey": true,\n');
    expect(examErrors(text)).toEqual([
      {
        ...positionOf(text, '"answerKey": true,', '"answerKey": true'.length),
        path: '',
        message: 'trailing comma is not allowed in JSON',
      },
    ]);
  });

  it('refuses comments, since the format is strict JSON', () => {
    const text = editedExam('"durationMinutes": 60,', '"durationMinutes": 60, // one hour');
    expect(examErrors(text)).toEqual([
      { ...positionOf(text, '// one hour'), path: '', message: 'comments are not allowed in JSON' },
    ]);
  });

  it('reports an unterminated string and an empty file', () => {
    expect(examErrors('{\n  "title": "Physics')).toEqual([
      { line: 2, column: 12, path: '', message: 'unterminated string' },
    ]);
    expect(examErrors('\uFEFF  \n')).toEqual([{ line: 1, column: 1, path: '', message: 'the file is empty' }]);
  });

  it('counts columns after a BOM from the first visible character', () => {
    expect(examErrors('\uFEFF{"a" 1}')).toEqual([
      { line: 1, column: 6, path: '', message: "expected ':' after the field name" },
    ]);
  });
});

describe('parseExamFile: schema errors located in the file', () => {
  it('a wrong type deep in a question names its exact line and path', () => {
    const text = editedExam(
      '"answerKey": { "value": 98.1, "tolerance": 0.5 }',
      '"answerKey": { "value": "98.1", "tolerance": 0.5 }',
    );
    expect(examErrors(text)).toEqual([
      {
        ...positionOf(text, '"98.1"'),
        path: 'sections[1].questions[1].answerKey.value',
        message: 'expected number, received string',
      },
    ]);
  });

  it('a missing top-level field points at the object that lacks it', () => {
    const text = editedExam('  "title": "Physics 101 — Midterm",\n', '');
    expect(examErrors(text)).toEqual([
      { line: 1, column: 1, path: 'title', message: 'missing required field "title"' },
    ]);
  });

  it('a missing field in a question points at that question', () => {
    const text = editedExam(
      '"prompt": "Name the SI unit of energy.",\n          "points": 2,',
      '"prompt": "Name the SI unit of energy.",',
    );
    const question = positionOf(text, '"id": "q9-unit-of-energy"');
    expect(examErrors(text)).toEqual([
      {
        line: question.line - 1,
        column: 9,
        path: 'sections[1].questions[3].points',
        message: 'missing required field "points"',
      },
    ]);
  });

  it('an answer key that is not among the options (a cross-field rule) maps to its line', () => {
    const text = editedExam('"answerKey": ["a", "c", "e"]', '"answerKey": ["a", "c", "x"]');
    expect(examErrors(text)).toEqual([
      {
        ...positionOf(text, '["a", "c", "x"]'),
        path: 'sections[0].questions[2].answerKey',
        message: '"x" is not one of the options',
      },
    ]);
  });

  it('reports every fault at once, sorted by line', () => {
    const text = editedExam('"verificationMode": "manual"', '"verificationMode": "face"')
      .replace('"type": "true-false"', '"type": "yes-no"')
      .replace('"maxWords": 400', '"maxWords": 400, "wordLimit": 300')
      .replace('"scoring": "partial"', '"scoring": "partial", "scoring": "all-or-nothing"');
    const errors = examErrors(text);
    expect(errors.map((e) => [e.line, e.path])).toEqual([
      [positionOf(text, '"face"').line, 'verificationMode'],
      [positionOf(text, '"scoring": "all').line, 'sections[0].questions[2].scoring'],
      [positionOf(text, '"yes-no"').line, 'sections[0].questions[3].type'],
      [positionOf(text, '"wordLimit"').line, 'sections[2].questions[0].wordLimit'],
    ]);
    expect(errors[0]?.message).toBe('expected one of "manual", "password", "camera", received "face"');
    expect(errors[1]?.message).toMatch(/^duplicate field "scoring" \(first on line \d+\)$/);
    expect(errors[3]).toMatchObject({ ...positionOf(text, '"wordLimit"'), message: 'unknown field "wordLimit"' });
  });

  it('checks the schedule: the download window must open by the start', () => {
    const text = editedExam('"opens": "2026-06-15T08:00:00Z"', '"opens": "2026-06-15T09:05:00Z"');
    expect(examErrors(text)).toEqual([
      {
        ...positionOf(text, '"2026-06-15T09:05:00Z"'),
        path: 'downloadWindow.opens',
        message: 'must not be after scheduledStart',
      },
    ]);
  });
});

describe('parseRoster: CSV', () => {
  const HEADER = 'studentId,name,email,maxDownloads,accessCode,seat';

  it('names the real line of a faulty record, also after a quoted multi-line cell and a blank line', () => {
    const text = [
      HEADER,
      'S1,"Ada',
      'Lovelace",ada@example.org,2,ABCDEFGHJKMN,A1',
      '',
      'S2,Grace Hopper,not-an-email,two,ABCDEFGHJKMN,A2',
    ].join('\r\n');
    expect(rosterErrors(text)).toEqual([
      { line: 5, column: 17, path: 'email', message: 'must be an email address, received "not-an-email"' },
      { line: 5, column: 30, path: 'maxDownloads', message: 'expected a number, received "two"' },
    ]);
  });

  it('locates a cell that follows a multi-line cell on the same record', () => {
    const text = `${HEADER}\nS1,"Ada\nLovelace",ada@example.org,2,TOO-SHORT,A1\n`;
    expect(rosterErrors(text)).toEqual([
      {
        ...positionOf(text, 'TOO-SHORT'),
        path: 'accessCode',
        message: 'must be 12-32 characters of 0-9 and A-Z without I, L, O, U',
      },
    ]);
  });

  it('reports a duplicate studentId on the second line, naming the first', () => {
    const text = `${HEADER}\nS1,Ada,,2,ABCDEFGHJKMN,A1\nS2,Grace,,2,ABCDEFGHJKMN,A2\nS1,Alan,,2,ABCDEFGHJKMN,A3\n`;
    expect(rosterErrors(text)).toEqual([
      { line: 4, column: 1, path: 'studentId', message: 'duplicate studentId "S1" (first on line 2)' },
    ]);
  });

  it('reports a duplicate examineeId (the candidate number is unique too); empty ones are not duplicates', () => {
    const text = [
      'studentId,name,accessCode,examineeId',
      'S1,Ada,ABCDEFGHJKMN,C-100',
      'S2,Grace,ABCDEFGHJKMN,',
      'S3,Alan,ABCDEFGHJKMN,',
      'S4,Edsger,ABCDEFGHJKMN,C-100',
    ].join('\n');
    expect(rosterErrors(`${text}\n`)).toEqual([
      { line: 5, column: 24, path: 'examineeId', message: 'duplicate examineeId "C-100" (first on line 2)' },
    ]);
    const json = [
      '{ "examinees": [',
      '  { "studentId": "S1", "name": "Ada", "accessCode": "ABCDEFGHJKMN", "examineeId": "C-7" },',
      '  { "studentId": "S2", "name": "Grace", "accessCode": "ABCDEFGHJKMN", "examineeId": "C-7" }',
      '] }',
    ].join('\n');
    expect(rosterErrors(json, 'json')).toEqual([
      { line: 3, column: 85, path: 'examinees[1].examineeId', message: 'duplicate examineeId "C-7" (first on line 2)' },
    ]);
  });

  it('refuses an unknown column by name, and a missing required one', () => {
    expect(rosterErrors('studentId,name,Email,accessCode,notes\nS1,Ada,,ABCDEFGHJKMN,x\n')).toEqual([
      { line: 1, column: 16, path: '', message: 'unknown column "Email" (did you mean "email"?)' },
      {
        line: 1,
        column: 33,
        path: '',
        message:
          'unknown column "notes" (expected studentId, name, email, phone, maxDownloads, accommodationPercent, accessCode, seat, examineeId)',
      },
    ]);
    expect(rosterErrors('studentId,name\nS1,Ada\n')).toEqual([
      { line: 1, column: 1, path: '', message: 'missing required column "accessCode"' },
    ]);
  });

  it('reads columns in any order, empty cells as absent, numbers as numbers, access codes normalised', () => {
    const text =
      '\uFEFFaccessCode;seat;name;studentId;accommodationPercent;maxDownloads;phone\r\nabcd-efgh-jk-mn;B4;Ada;S1;50;;\r\n';
    const result = parseRoster(text, 'csv', EXAM_ID);
    expect(result).toEqual({
      ok: true,
      entries: [
        {
          studentId: 'S1',
          name: 'Ada',
          accessCode: 'ABCDEFGHJKMN',
          seat: 'B4',
          accommodationPercent: 50,
          maxDownloads: 2,
        },
      ],
    });
  });

  it('reads the optional examinee identifier (a candidate number distinct from the sign-in id)', () => {
    const text = 'studentId,name,accessCode,examineeId\nS1,Ada,ABCDEFGHJKMN, C-0042 \nS2,Grace,ABCDEFGHJKMN,\n';
    const result = parseRoster(text, 'csv', EXAM_ID);
    if (!result.ok) throw new Error(formatImportErrors('roster.csv', result.errors));
    expect(result.entries.map((e) => e.examineeId)).toEqual(['C-0042', undefined]);
    expect(toExamineeDoc(EXAM_ID, result.entries[0]!).examineeId).toBe('C-0042');
    expect(toExamineeDoc(EXAM_ID, result.entries[1]!)).not.toHaveProperty('examineeId');
    expect(rosterErrors(`studentId,name,accessCode,examineeId\nS1,Ada,ABCDEFGHJKMN,${'9'.repeat(65)}\n`)).toEqual([
      { line: 2, column: 21, path: 'examineeId', message: 'must be at most 64 characters' },
    ]);
  });

  it('reports an empty required cell and a short record', () => {
    expect(rosterErrors(`${HEADER}\nS1, ,,2,ABCDEFGHJKMN,A1\nS2,Grace,,2,ABCDEFGHJKMN\n`)).toEqual([
      { line: 2, column: 1, path: 'name', message: 'required column "name" is empty' },
      { line: 3, column: 1, path: '', message: 'has 5 cells, the header has 6' },
    ]);
  });

  it('points at a quote that is never closed', () => {
    expect(
      rosterErrors(`${HEADER}\nS1,Ada,,2,ABCDEFGHJKMN,A1\nS2,"Grace,,2,ABCDEFGHJKMN,A2\nS3,Alan,,2,ABCDEFGHJKMN,A3\n`),
    ).toEqual([{ line: 3, column: 4, path: '', message: 'this quote (") is never closed' }]);
  });

  it('refuses a roster with no examinees', () => {
    expect(rosterErrors(`${HEADER}\n`)).toEqual([
      { line: 1, column: 1, path: '', message: 'the roster has no examinees' },
    ]);
    expect(rosterErrors('')).toEqual([{ line: 1, column: 1, path: '', message: 'the file is empty' }]);
  });
});

describe('parseRoster: JSON', () => {
  it('accepts a bare array', () => {
    const result = parseRoster('[{ "studentId": "S1", "name": "Ada", "accessCode": "abcdefghjkmn" }]', 'json', EXAM_ID);
    expect(result).toEqual({
      ok: true,
      entries: [{ studentId: 'S1', name: 'Ada', accessCode: 'ABCDEFGHJKMN', maxDownloads: 2, accommodationPercent: 0 }],
    });
  });

  it('carries the examinee identifier, and refuses one that is not text', () => {
    const ok = parseRoster(
      '[{ "studentId": "S1", "name": "Ada", "accessCode": "ABCDEFGHJKMN", "examineeId": "C-0042" }]',
      'json',
      EXAM_ID,
    );
    expect(ok.ok && ok.entries[0]?.examineeId).toBe('C-0042');
    const text = '[{ "studentId": "S1", "name": "Ada", "accessCode": "ABCDEFGHJKMN", "examineeId": 42 }]';
    expect(rosterErrors(text, 'json')).toEqual([
      { ...positionOf(text, '42'), path: '[0].examineeId', message: 'expected string, received number' },
    ]);
  });

  it('locates faults and duplicates by line', () => {
    const text = [
      '{ "examinees": [',
      '  { "studentId": "S1", "name": "Ada", "accessCode": "ABCDEFGHJKMN" },',
      '  { "studentId": "S2", "name": "Grace", "accessCode": "ABCDEFGHJKMN", "maxDownloads": "3" },',
      '  { "studentId": "S1", "name": "Alan", "accessCode": "ABCDEFGHJKMN" },',
      '  { "name": "Edsger", "accessCode": "ABCDEFGHJKMN" }',
      '] }',
    ].join('\n');
    expect(rosterErrors(text, 'json')).toEqual([
      { ...positionOf(text, '"3"'), path: 'examinees[1].maxDownloads', message: 'expected number, received string' },
      { line: 4, column: 18, path: 'examinees[2].studentId', message: 'duplicate studentId "S1" (first on line 2)' },
      { line: 5, column: 3, path: 'examinees[3].studentId', message: 'missing required field "studentId"' },
    ]);
  });

  it('refuses a roster that names another exam', () => {
    const text =
      '{\n  "examId": "chemistry-201",\n  "examinees": [{ "studentId": "S1", "name": "Ada", "accessCode": "ABCDEFGHJKMN" }]\n}';
    expect(rosterErrors(text, 'json')).toEqual([
      { line: 2, column: 13, path: 'examId', message: `this roster is for exam "chemistry-201", not "${EXAM_ID}"` },
    ]);
  });

  it('refuses a value that is not a roster', () => {
    expect(rosterErrors('"S1"', 'json')).toEqual([
      { line: 1, column: 1, path: '', message: 'expected an array of examinees or an object { "examinees": [...] }' },
    ]);
  });
});

describe('documents', () => {
  it('toExamineeDoc keeps only the hash of the access code', () => {
    const result = parseRoster(ROSTER_CSV, 'csv', EXAM_ID);
    if (!result.ok) throw new Error('demo roster refused');
    const entry = result.entries[2];
    if (entry === undefined) throw new Error('demo roster too short');
    const doc = toExamineeDoc(EXAM_ID, entry);
    expect(doc).toMatchObject({
      _id: `examinee:${EXAM_ID}:S1003`,
      type: 'examinee',
      schemaVersion: 1,
      examId: EXAM_ID,
      studentId: 'S1003',
      name: 'Sofía Hernández',
      accommodationPercent: 25,
      accessCodeHash: accessCodeHash(EXAM_ID, 'S1003', 'W1HDRBB92ZM4'),
    });
    expect(doc).not.toHaveProperty('accessCode');
    expect(JSON.stringify(doc)).not.toContain(entry.accessCode);
  });

  it('toExamDoc versions the exam by its content', () => {
    const result = parseExamFile(EXAM);
    if (!result.ok) throw new Error('demo exam refused');
    const doc = toExamDoc(result.exam);
    expect(doc).toMatchObject({ _id: `exam:${EXAM_ID}`, type: 'exam', schemaVersion: 1, examId: EXAM_ID });
    expect(doc.version).toMatch(/^[0-9a-f]{64}$/);
    // Whitespace and member order do not matter; content does.
    const reformatted = parseExamFile(JSON.stringify(JSON.parse(EXAM)));
    const changed = parseExamFile(editedExam('"durationMinutes": 60', '"durationMinutes": 75'));
    if (!reformatted.ok || !changed.ok) throw new Error('edited exam refused');
    expect(toExamDoc(reformatted.exam).version).toBe(doc.version);
    expect(toExamDoc(changed.exam).version).not.toBe(doc.version);
  });
});

describe('helpers', () => {
  it('formatImportErrors prints file:line:column path: message', () => {
    expect(
      formatImportErrors('exams/x.json', [
        { line: 12, column: 7, path: 'sections[0].questions[1].points', message: 'expected number, received string' },
        { line: 1, column: 1, path: '', message: 'the file is empty' },
      ]),
    ).toBe(
      'exams/x.json:12:7 sections[0].questions[1].points: expected number, received string\nexams/x.json:1:1 the file is empty',
    );
  });

  it('rosterFormatFromName goes by the extension', () => {
    expect(rosterFormatFromName('rosters/physics.csv')).toBe('csv');
    expect(rosterFormatFromName('ROSTER.JSON')).toBe('json');
    expect(rosterFormatFromName('roster.xlsx')).toBeUndefined();
  });
});
