/**
 * The local central server's guard rules (local-guard.ts), as pure functions: which requests
 * need a server admin, which are refused for everybody, which bodies are read, and what in a body
 * names the security object's document. The same rules against the real pouchdb-server are in
 * tests/sync/local-central.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { bodyRefusal, guardVerdict, namesSecurityDoc } from './local-guard.js';

const json = { 'content-type': 'application/json' };
const body = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('guardVerdict', () => {
  it('passes reads of databases and the open endpoints straight through', () => {
    for (const [method, url] of [
      ['GET', '/'],
      ['GET', '/hall-a101'],
      ['GET', '/hall-a101/_changes?feed=longpoll&since=0'],
      ['HEAD', '/hall-a101/exam:e1'],
      ['GET', '/hall-a101/_local/_security'],
      ['GET', '/_session'],
      ['POST', '/_session'],
      ['DELETE', '/_session'],
      ['GET', '/_all_dbs'],
      ['GET', '/_uuids'],
      ['GET', '/_utils/'],
      ['GET', '/_up'],
    ] as const)
      expect(guardVerdict(method, url), `${method} ${url}`).toEqual({ action: 'forward' });
  });

  it('lets only server admins create or delete a database (a non-admin PUT /<db> would crash pouchdb-server)', () => {
    for (const method of ['PUT', 'DELETE', 'COPY'])
      expect(guardVerdict(method, '/newdb')).toEqual({
        action: 'admin-only',
        status: 401,
        error: 'unauthorized',
        reason: 'You are not a server admin.',
      });
    expect(guardVerdict('PUT', '/new%64b?q=1')).toMatchObject({ action: 'admin-only', status: 401 });
    expect(guardVerdict('PUT', '//newdb/')).toMatchObject({ action: 'admin-only', status: 401 });
  });

  it('keeps _users, _replicator and the other server endpoints for server admins, reads included', () => {
    for (const [method, url] of [
      ['PUT', '/_users/org.couchdb.user:appliance-box-1'],
      ['GET', '/_users/org.couchdb.user:appliance-box-1'],
      ['GET', '/_users/_changes?include_docs=true'],
      ['POST', '/_replicator'],
      ['POST', '/_replicate'],
      ['PUT', '/_config/admins/x'],
      ['PUT', '/%5Fusers/org.couchdb.user:x'],
      ['POST', '/_restart'],
    ] as const)
      expect(guardVerdict(method, url), `${method} ${url}`).toMatchObject({ action: 'admin-only', status: 403 });
  });

  it('refuses every write of _local/_security, however the path spells it', () => {
    for (const [method, url] of [
      ['PUT', '/hall-a101/_local/_security'],
      ['DELETE', '/hall-a101/_local/_security?rev=0-1'],
      ['PUT', '/hall-a101/_local%2F_security'],
      ['PUT', '/hall-a101/%5Flocal/%5Fsecurity'],
      ['PUT', '/hall-a101//_local//_security'],
      ['POST', '/hall-a101/_local/_security'],
      ['PUT', '/hall-a101/_local/_security/attachment'],
    ] as const)
      expect(guardVerdict(method, url), `${method} ${url}`).toMatchObject({ action: 'refuse', status: 403 });
    expect(guardVerdict('COPY', '/hall-a101/exam:e1', '_local/_security')).toMatchObject({ action: 'refuse' });
    expect(guardVerdict('COPY', '/hall-a101/exam:e1', '_local%2F_security?rev=0-1')).toMatchObject({
      action: 'refuse',
    });
    expect(guardVerdict('COPY', '/hall-a101/exam:e1', 'exam:e2')).toEqual({ action: 'forward' });
  });

  it('reads the body of every other database write; refuses a path that is not percent-encoding', () => {
    for (const [method, url] of [
      ['POST', '/hall-a101'],
      ['POST', '/hall-a101/_bulk_docs'],
      ['POST', '/hall-a101/_revs_diff'],
      ['PUT', '/hall-a101/event:e1:box-1:1'],
      ['PUT', '/hall-a101/_local/checkpoint-1'],
      ['DELETE', '/hall-a101/event:e1:box-1:1?rev=1-x'],
    ] as const)
      expect(guardVerdict(method, url), `${method} ${url}`).toEqual({ action: 'inspect-body' });
    expect(guardVerdict('GET', '/hall-%zz')).toMatchObject({ action: 'refuse', status: 400 });
  });
});

describe('bodyRefusal', () => {
  it('refuses _local/_security named in a document, in docs[], in a bare array or as ?id=', () => {
    const security = { security: { admins: { names: ['appliance-box-1'] } } };
    for (const [url, payload] of [
      ['/hall-a101/anything', { _id: '_local/_security', ...security }],
      ['/hall-a101', { _id: '_local/_security', ...security }],
      ['/hall-a101/_bulk_docs', { docs: [{ _id: 'event:e:b:1' }, { _id: '_local/_security', ...security }] }],
      ['/hall-a101/_bulk_docs', [{ _id: '_local/_security' }]],
      ['/hall-a101/anything', { _id: '\u005flocal/_security' }],
    ] as const)
      expect(bodyRefusal(json, url, body(payload)), url).toMatchObject({ status: 403 });
    expect(bodyRefusal(json, '/hall-a101/x?id=%22_local%2F_security%22', body({}))).toMatchObject({ status: 403 });
    expect(bodyRefusal(json, '/hall-a101/x?id=_local/_security', body({}))).toMatchObject({ status: 403 });
  });

  it('refuses what it cannot read as pouchdb-server does: compressed, not UTF-8, multipart/related, bad JSON', () => {
    expect(bodyRefusal({ ...json, 'content-encoding': 'gzip' }, '/h/x', Buffer.from([31, 139]))).toMatchObject({
      status: 415,
    });
    expect(
      bodyRefusal({ 'content-type': 'application/json; charset=utf-16le' }, '/h/x', Buffer.from('{}', 'utf16le')),
    ).toMatchObject({ status: 415 });
    expect(bodyRefusal({ 'content-type': 'multipart/related; boundary=x' }, '/h/x', Buffer.from('--x'))).toMatchObject({
      status: 415,
    });
    expect(bodyRefusal(json, '/h/x', Buffer.from('{"_id":'))).toMatchObject({ status: 400 });
  });

  it('lets checkpoints, appliance documents and other writes through', () => {
    expect(bodyRefusal(json, '/h/_local/cp', body({ _id: '_local/cp', last_seq: 5 }))).toBeUndefined();
    expect(
      bodyRefusal(json, '/h/_bulk_docs', body({ docs: [{ _id: 'event:e:b:1' }], new_edits: false })),
    ).toBeUndefined();
    expect(bodyRefusal({ 'content-type': 'application/json; charset=utf-8' }, '/h/x', body({}))).toBeUndefined();
    expect(bodyRefusal({}, '/h/x?rev=1-a', Buffer.alloc(0))).toBeUndefined();
    expect(namesSecurityDoc('_local/_securityx')).toBe(false);
    expect(namesSecurityDoc('_local/_security')).toBe(true);
  });
});
