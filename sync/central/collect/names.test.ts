import { describe, expect, it } from 'vitest';
import { filePart, FolderNames, idComponent, idSuffix } from './names.js';

const SAFE_PART = /^[A-Za-z0-9_][A-Za-z0-9._~-]*$/;

describe('collect file names', () => {
  it('keeps a safe id as it is and suffixes every other with a hash of the id', () => {
    expect(idComponent('S00001')).toEqual({ name: 'S00001', kept: true });
    expect(idComponent('phys-1.v2')).toEqual({ name: 'phys-1.v2', kept: true });
    for (const id of ['a/b', '..', '.', '', 'a\\b', '-rf', 'x.', 'é', 'con', 'NUL.txt', 'lpt1', 'a'.repeat(65)]) {
      const c = idComponent(id);
      expect(c.kept, id).toBe(false);
      expect(c.name, id).toMatch(SAFE_PART);
      expect(c.name.endsWith(idSuffix(id)), id).toBe(true);
      expect(c.name.length, id).toBeLessThanOrEqual(59);
    }
    expect(idComponent('a/b').name).toBe(`a_b${idSuffix('a/b')}`);
    expect(idComponent('..').name).toBe(`__${idSuffix('..')}`);
    expect(idComponent('files.csv', new Set(['files.csv'])).kept).toBe(false);
  });

  it('gives every id of a set a distinct name, also ignoring case, whatever the order', () => {
    const ids = ['a/b', 'a_b', 'A_B', 'S1', 's1', 'S1.answers.json', 'S2', 'a_b~0000000000'];
    const forms = (n: string) => [n, `${n}.answers.json`];
    const one = FolderNames.plan(ids, { forms });
    const other = FolderNames.plan([...ids].reverse(), { forms });
    const names = ids.map((id) => one.nameOf(id));
    expect(ids.map((id) => other.nameOf(id))).toEqual(names);
    const occupied = names.flatMap(forms).map((n) => n.toLowerCase());
    expect(new Set(occupied).size).toBe(occupied.length);
    // Only the ids that clash get the suffix.
    expect(one.nameOf('S2')).toBe('S2');
    expect(one.nameOf('a_b')).toBe(`a_b${idSuffix('a_b')}`);
    expect(one.nameOf('S1')).toBe(`S1${idSuffix('S1')}`);
    expect(one.nameOf('S1.answers.json')).toBe(`S1.answers.json${idSuffix('S1.answers.json')}`);
  });

  it('suffixes an id named like a file collect writes in the folder', () => {
    const names = FolderNames.plan(['files.csv', 'Submissions.CSV', 'phys-1'], {
      reserved: ['submissions.csv', 'files.csv', 'collect.json'],
    });
    expect(names.nameOf('files.csv')).toBe(`files.csv${idSuffix('files.csv')}`);
    expect(names.nameOf('Submissions.CSV')).toMatch(/^Submissions\.CSV~/);
    expect(names.nameOf('phys-1')).toBe('phys-1');
  });

  it('keeps <box>-<seq> names unambiguous: an id that is another plus "-" clashes', () => {
    const names = FolderNames.plan(['box', 'box-2', 'box-3f2a9c01d4', 'hall'], { prefixSeparator: '-' });
    expect(names.nameOf('box')).toMatch(/^box~/);
    expect(names.nameOf('box-2')).toMatch(/^box-2~/);
    expect(names.nameOf('box-3f2a9c01d4')).toMatch(/^box-3f2a9c01d4~/);
    expect(names.nameOf('hall')).toBe('hall');
  });

  it('names an id the plan did not know with its suffix, never taking another id’s name', () => {
    const names = FolderNames.plan(['S1']);
    expect(names.nameOf('S1')).toBe('S1');
    expect(names.nameOf('s1')).toBe(`s1${idSuffix('s1')}`);
    expect(names.nameOf('s1')).toBe(`s1${idSuffix('s1')}`);
  });

  it('makes an examinee’s file name safe, keeping its extension', () => {
    expect(filePart('lab report (final).pdf')).toBe('lab_report__final_.pdf');
    expect(filePart('../../etc/passwd')).toBe('.._.._etc_passwd');
    expect(filePart('')).toBe('_');
    expect(filePart(`${'x'.repeat(200)}.docx`)).toBe(`${'x'.repeat(75)}.docx`);
    expect(filePart('a/b', 40)).toBe('a_b');
    expect(filePart('.hidden')).toBe('.hidden');
  });
});
