/**
 * The central hall database's design document `_design/hall`: its `validate_doc_update` decides
 * what a hall's credentials may write. CouchDB calls it for every write, replicated ones included;
 * it sees only the document being written (and, for an edit, the revision it edits), never any
 * other document. What it cannot check (hash chains, receipt signatures, chunk bytes, roster
 * membership) `sync -- verify` checks afterwards: docs/verifying.md says which check is where.
 *
 * Rules:
 * - A server or database admin (role `_admin`, the institution's CLI) may write anything.
 * - Anyone else (a box's user) may only write appliance documents, each carrying an `applianceId`
 *   for which the user holds the role `appliance:<applianceId>`:
 *     `event:<examId>:<applianceId>:<seq padded to 10>`                      type "event"
 *     `submission:<examId>:<studentId>:<applianceId>:<n>` (or the legacy
 *     `submission:<examId>:<studentId>:<n>`)                                  type "submission"
 *     `blob:<sha256>:<index>`                                                type "blob-chunk"
 *     `receipt-key:<applianceId>`                                            type "receipt-key"
 *     `appliance-status:<applianceId>` (the heartbeat)                       type "appliance-status"
 * - Appliance documents are immutable and generation-1: no deletion; no edit of an existing one;
 *   and a replicated write (`new_edits: false`) only with a `1-…` revision. A replicated write of
 *   a new revision branch (say `9-…`) reaches CouchDB's function with no old document, so
 *   without this rule it would win over the box's `1-…` revision. A new generation-1 branch of an
 *   existing id cannot be told apart here (CouchDB passes no old document for it) and becomes a
 *   conflict: for a chunk that is by design (a chunk's revision is derived from its bytes, so a
 *   wrong chunk and the right one coexist and the verifier takes the one that hashes right);
 *   anywhere else `verify` reports it.
 * - The one exception is the heartbeat `appliance-status:<applianceId>`, which its own box (role
 *   `appliance:<applianceId>` for the id in the document id) may create and update, never delete.
 * - Ids must agree with the fields: an event's exam, appliance and seq; a submission's exam,
 *   student, n (and appliance in the 5-part form); a chunk's sha256 and index; and every field
 *   has its type (64 lower-case hex digits for hashes, ISO 8601 for times, ...). A submission's
 *   receipt payload must name the same exam, student, submission, n, appliance, SHA-256, size,
 *   submission type and time as the document. An event's `hash` must be the SHA-256 of its
 *   canonical JSON (computed here in ES5: a few hundred bytes per event, well under a
 *   millisecond even in an interpreter), and an event with seq 1 must start the chain
 *   (`prevHash` 64 zeros); whether `prevHash` is the previous event's hash needs the previous
 *   event, so `verify` checks it.
 * - Only chunks carry attachments (exactly one, `chunk`, of the chunk's length where the server
 *   says it).
 * - Everything else is refused: `exam:`, `examinee:`, assets, drafts, design documents, ids of
 *   any other shape.
 *
 * The function is kept as source text, in the JavaScript every CouchDB 3 query server runs
 * (ES5: no arrow functions, no let/const, no String#startsWith, no typed arrays), and is
 * installed exactly as written here; the tests evaluate this same text.
 */

/** The design document's id. */
export const HALL_DESIGN_DOC_ID = '_design/hall';

/** Bumped whenever the rules change, so `install-design` can tell whether an update is needed. */
export const HALL_DESIGN_VERSION = 2;

/** The role a hall's user needs to write an appliance's documents. */
export const applianceRole = (applianceId: string) => `appliance:${applianceId}`;

export const VALIDATE_DOC_UPDATE = String.raw`function (newDoc, oldDoc, userCtx, secObj) {
  var roles = (userCtx && userCtx.roles) || [];
  if (roles.indexOf('_admin') !== -1) return;
  var id = String(newDoc._id);
  var ZEROS = '0000000000000000000000000000000000000000000000000000000000000000';
  var CHUNK_BYTES = 524288;

  function refuse(why) {
    throw { forbidden: id + ': ' + why };
  }
  function own(o, k) {
    return Object.prototype.hasOwnProperty.call(o, k);
  }
  function isObject(v) {
    return typeof v === 'object' && v !== null && Object.prototype.toString.call(v) !== '[object Array]';
  }
  function isId(v) {
    return typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(v);
  }
  function isHex64(v) {
    return typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);
  }
  function isCount(v) {
    return typeof v === 'number' && v >= 0 && v <= 9007199254740991 && Math.floor(v) === v;
  }
  function isTime(v) {
    return typeof v === 'number' && isFinite(v) && v >= 0;
  }
  function isIso(v) {
    return typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.test(v);
  }
  function need(ok, field, what) {
    if (!ok) refuse(field + ' must be ' + what + '.');
  }

  // Canonical JSON (docs/verifying.md): keys sorted by UTF-16 code units, no whitespace, strings
  // escaped as ECMAScript 2019 JSON.stringify does (whatever this engine's own does).
  function quote(s) {
    var out = '"', i, n, m;
    for (i = 0; i < s.length; i++) {
      n = s.charCodeAt(i);
      if (n === 34) out += '\\"';
      else if (n === 92) out += '\\\\';
      else if (n === 8) out += '\\b';
      else if (n === 9) out += '\\t';
      else if (n === 10) out += '\\n';
      else if (n === 12) out += '\\f';
      else if (n === 13) out += '\\r';
      else if (n < 32) out += '\\u00' + (n < 16 ? '0' : '') + n.toString(16);
      else if (n >= 0xd800 && n < 0xdc00 && (m = s.charCodeAt(i + 1)) >= 0xdc00 && m < 0xe000) {
        out += s.charAt(i) + s.charAt(i + 1);
        i++;
      } else if (n >= 0xd800 && n < 0xe000) out += '\\u' + n.toString(16);
      else out += s.charAt(i);
    }
    return out + '"';
  }
  function canonical(v, top) {
    var i, k, keys, out;
    if (v === null) return 'null';
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (typeof v === 'number') {
      if (!isFinite(v)) refuse('holds a number that is not finite.');
      return String(v);
    }
    if (typeof v === 'string') return quote(v);
    if (Object.prototype.toString.call(v) === '[object Array]') {
      out = [];
      for (i = 0; i < v.length; i++) out.push(v[i] === undefined ? 'null' : canonical(v[i], false));
      return '[' + out.join(',') + ']';
    }
    keys = [];
    for (k in v) {
      if (!own(v, k) || v[k] === undefined || typeof v[k] === 'function') continue;
      // The hash covers everything but itself and the server's metadata (_rev, _revisions, ...).
      if (top && (k === 'hash' || (k.charAt(0) === '_' && k !== '_id'))) continue;
      keys.push(k);
    }
    keys.sort();
    out = [];
    for (i = 0; i < keys.length; i++) out.push(quote(keys[i]) + ':' + canonical(v[keys[i]], false));
    return '{' + out.join(',') + '}';
  }

  // SHA-256 (FIPS 180-4) of a string's UTF-8 bytes, lower-case hex.
  var K = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
  ];
  function utf8(s) {
    var b = [], i, c, d;
    for (i = 0; i < s.length; i++) {
      c = s.charCodeAt(i);
      if (c < 0x80) b.push(c);
      else if (c < 0x800) b.push(0xc0 | (c >> 6), 0x80 | (c & 63));
      else if (c >= 0xd800 && c < 0xdc00 && (d = s.charCodeAt(i + 1)) >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        b.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      } else {
        if (c >= 0xd800 && c < 0xe000) c = 0xfffd;
        b.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      }
    }
    return b;
  }
  function rotr(x, n) {
    return (x >>> n) | (x << (32 - n));
  }
  function sha256Hex(s) {
    var b = utf8(s), bits = b.length * 8, H, w = [], i, j, a, bb, c, d, e, f, g, h, t1, t2, out = '';
    H = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
    b.push(0x80);
    while (b.length % 64 !== 56) b.push(0);
    t1 = Math.floor(bits / 4294967296);
    t2 = bits >>> 0;
    b.push((t1 >>> 24) & 255, (t1 >>> 16) & 255, (t1 >>> 8) & 255, t1 & 255);
    b.push((t2 >>> 24) & 255, (t2 >>> 16) & 255, (t2 >>> 8) & 255, t2 & 255);
    for (i = 0; i < b.length; i += 64) {
      for (j = 0; j < 16; j++) w[j] = (b[i + 4 * j] << 24) | (b[i + 4 * j + 1] << 16) | (b[i + 4 * j + 2] << 8) | b[i + 4 * j + 3];
      for (j = 16; j < 64; j++) {
        t1 = rotr(w[j - 15], 7) ^ rotr(w[j - 15], 18) ^ (w[j - 15] >>> 3);
        t2 = rotr(w[j - 2], 17) ^ rotr(w[j - 2], 19) ^ (w[j - 2] >>> 10);
        w[j] = (w[j - 16] + t1 + w[j - 7] + t2) | 0;
      }
      a = H[0]; bb = H[1]; c = H[2]; d = H[3]; e = H[4]; f = H[5]; g = H[6]; h = H[7];
      for (j = 0; j < 64; j++) {
        t1 = (h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[j] + w[j]) | 0;
        t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & bb) ^ (a & c) ^ (bb & c))) | 0;
        h = g; g = f; f = e; e = (d + t1) | 0; d = c; c = bb; bb = a; a = (t1 + t2) | 0;
      }
      H[0] = (H[0] + a) | 0; H[1] = (H[1] + bb) | 0; H[2] = (H[2] + c) | 0; H[3] = (H[3] + d) | 0;
      H[4] = (H[4] + e) | 0; H[5] = (H[5] + f) | 0; H[6] = (H[6] + g) | 0; H[7] = (H[7] + h) | 0;
    }
    for (i = 0; i < 8; i++) out += ('0000000' + (H[i] >>> 0).toString(16)).slice(-8);
    return out;
  }

  if (newDoc._deleted) refuse('a hall may not delete documents.');
  var parts = id.split(':');
  var kinds = {
    event: 'event',
    submission: 'submission',
    blob: 'blob-chunk',
    'receipt-key': 'receipt-key',
    'appliance-status': 'appliance-status'
  };
  var type = own(kinds, parts[0]) ? kinds[parts[0]] : undefined;
  if (!type) {
    throw {
      forbidden: 'A hall may only write event:, submission:, blob:, receipt-key: and appliance-status: documents, not ' + id + '.'
    };
  }
  if (newDoc.type !== type) refuse('must have type "' + type + '".');
  var appliance = newDoc.applianceId;
  if (!isId(appliance)) refuse('carries no valid applianceId.');
  if (roles.indexOf('appliance:' + appliance) === -1) {
    throw { forbidden: 'This user may not write for appliance ' + appliance + ' (needs role appliance:' + appliance + ').' };
  }
  var rev = newDoc._rev;
  var heartbeat = type === 'appliance-status';
  if (!heartbeat) {
    if (rev !== undefined && !/^1-[0-9a-f]{1,128}$/.test(String(rev))) {
      refuse('appliance documents are written once: only generation-1 revisions (1-...), not ' + rev + '.');
    }
    // A new generation-1 branch of a chunk (its revision names other bytes) joins the existing one
    // as a conflict, as on CouchDB, which passes no old document for it; the stand-in server
    // passes the current one.
    var newBranch = type === 'blob-chunk' && rev !== undefined && oldDoc && rev !== oldDoc._rev;
    if (oldDoc && !oldDoc._deleted && !newBranch) refuse('appliance documents are immutable: it exists already.');
  }
  // The receipt key and the heartbeat (contracts C2, C3) need no schemaVersion; the records do.
  if (newDoc.schemaVersion !== undefined || type === 'event' || type === 'submission' || type === 'blob-chunk') {
    need(isCount(newDoc.schemaVersion) && newDoc.schemaVersion >= 1, 'schemaVersion', 'a whole number from 1');
  }
  var atts = newDoc._attachments;
  if (type !== 'blob-chunk' && atts !== undefined && atts !== null) {
    for (var name in atts) if (own(atts, name)) refuse('only blob chunks carry attachments.');
  }

  if (type === 'event') {
    if (parts.length !== 4 || parts[1] !== newDoc.examId || parts[2] !== appliance || !isId(newDoc.examId)) {
      refuse('does not match its examId and applianceId.');
    }
    if (!/^\d{10}$/.test(parts[3]) || !isCount(newDoc.seq) || newDoc.seq < 1 || ('000000000' + newDoc.seq).slice(-10) !== parts[3]) {
      refuse('does not match its seq (' + newDoc.seq + ').');
    }
    need(isTime(newDoc.at), 'at', 'a time in epoch milliseconds');
    need(typeof newDoc.kind === 'string' && /^[a-z][a-z0-9-]{0,63}$/.test(newDoc.kind), 'kind', 'an event kind');
    var actor = newDoc.actor;
    need(
      isObject(actor) &&
        ((actor.role === 'examinee' && isId(actor.studentId)) ||
          (actor.role === 'proctor' && typeof actor.username === 'string' && actor.username !== '') ||
          actor.role === 'system'),
      'actor',
      'an examinee, a proctor or the system'
    );
    need(newDoc.studentId === undefined || isId(newDoc.studentId), 'studentId', 'a student id');
    need(isObject(newDoc.data), 'data', 'an object');
    need(isHex64(newDoc.prevHash), 'prevHash', '64 lower-case hex digits');
    need(isHex64(newDoc.hash), 'hash', '64 lower-case hex digits');
    if (newDoc.seq === 1 && newDoc.prevHash !== ZEROS) refuse('seq 1 starts its chain: prevHash must be 64 zeros.');
    if (sha256Hex(canonical(newDoc, true)) !== newDoc.hash) refuse('hash is not the SHA-256 of the event.');
  }

  if (type === 'submission') {
    var five = parts.length === 5;
    if ((parts.length !== 4 && !five) || parts[1] !== newDoc.examId || parts[2] !== newDoc.studentId) {
      refuse('does not match its examId and studentId.');
    }
    need(isId(newDoc.examId), 'examId', 'an exam id');
    need(isId(newDoc.studentId), 'studentId', 'a student id');
    if (five && parts[3] !== appliance) refuse('does not match its applianceId.');
    var nPart = parts[parts.length - 1];
    if (!/^[1-9]\d{0,8}$/.test(nPart) || !isCount(newDoc.n) || String(newDoc.n) !== nPart) {
      refuse('does not match its n (' + newDoc.n + ').');
    }
    need(isHex64(newDoc.sha256), 'sha256', '64 lower-case hex digits');
    need(isCount(newDoc.size), 'size', 'a whole number of bytes');
    need(newDoc.submissionType === 'manual' || newDoc.submissionType === 'automatic', 'submissionType', 'manual or automatic');
    need(isTime(newDoc.receivedAt), 'receivedAt', 'a time in epoch milliseconds');
    need(typeof newDoc.late === 'boolean', 'late', 'true or false');
    need(newDoc.timing === undefined || (typeof newDoc.timing === 'string' && /^[a-z-]{1,32}$/.test(newDoc.timing)), 'timing', 'a time-up case');
    var score = newDoc.score;
    need(
      score === undefined ||
        (isObject(score) &&
          typeof score.score === 'number' &&
          isFinite(score.score) &&
          typeof score.maxScore === 'number' &&
          isFinite(score.maxScore) &&
          isCount(score.answered) &&
          isCount(score.total)),
      'score',
      'a score'
    );
    var receipt = newDoc.receipt;
    need(isObject(receipt) && isObject(receipt.payload), 'receipt', 'a receipt with a payload');
    need(typeof receipt.signature === 'string' && /^[A-Za-z0-9+\/]{86}==$/.test(receipt.signature), 'receipt.signature', 'a base64 Ed25519 signature');
    need(typeof receipt.publicKey === 'string' && /^[A-Za-z0-9+\/]{43}=$/.test(receipt.publicKey), 'receipt.publicKey', 'a base64 Ed25519 public key');
    var p = receipt.payload;
    need(p.format === 'receipt/v1' || p.format === 'receipt/v2', 'receipt.payload.format', 'receipt/v1 or receipt/v2');
    need(isId(p.hallId), 'receipt.payload.hallId', 'a hall id');
    var same = ['applianceId', 'examId', 'studentId', 'n', 'sha256', 'size', 'submissionType'];
    for (var s = 0; s < same.length; s++) {
      if (p[same[s]] !== newDoc[same[s]]) refuse('the receipt names another ' + same[s] + '.');
    }
    if (p.submissionId !== id) refuse('the receipt names another submissionId.');
    if (p.receivedAt !== new Date(newDoc.receivedAt).toISOString()) refuse('the receipt names another receivedAt.');
    if (p.format === 'receipt/v2') {
      need(typeof p.timing === 'string', 'receipt.payload.timing', 'a time-up case');
      if (newDoc.timing !== undefined && p.timing !== newDoc.timing) refuse('the receipt names another timing.');
    }
  }

  if (type === 'blob-chunk') {
    if (
      parts.length !== 3 ||
      newDoc.sha256 !== parts[1] ||
      !isCount(newDoc.index) ||
      String(newDoc.index) !== parts[2] ||
      !/^(0|[1-9]\d{0,8})$/.test(parts[2])
    ) {
      refuse('does not match its sha256 and index.');
    }
    need(isHex64(newDoc.sha256), 'sha256', '64 lower-case hex digits');
    need(isCount(newDoc.size), 'size', 'a whole number of bytes');
    need(isCount(newDoc.count) && newDoc.count === Math.max(1, Math.ceil(newDoc.size / CHUNK_BYTES)), 'count', 'the number of 512 KiB chunks of size');
    if (newDoc.index >= newDoc.count) refuse('index must be below count.');
    var chunk = isObject(atts) ? atts.chunk : undefined;
    if (!isObject(chunk)) refuse('carries no attachment "chunk".');
    for (var other in atts) if (own(atts, other) && other !== 'chunk') refuse('carries an attachment other than "chunk".');
    var expected = Math.min(CHUNK_BYTES, newDoc.size - newDoc.index * CHUNK_BYTES);
    var length = chunk.length;
    if (typeof length !== 'number' && typeof chunk.data === 'string') {
      var data = chunk.data.replace(/\s+/g, '');
      length = (data.length / 4) * 3 - (/==$/.test(data) ? 2 : /=$/.test(data) ? 1 : 0);
    }
    if (typeof length === 'number' && length !== expected) refuse('the chunk holds ' + length + ' bytes, not ' + expected + '.');
  }

  if (type === 'receipt-key' || heartbeat) {
    if (parts.length !== 2 || parts[1] !== appliance) refuse('does not match its applianceId.');
    need(isId(newDoc.hallId), 'hallId', 'a hall id');
  }
  if (type === 'receipt-key') {
    need(newDoc.algorithm === 'Ed25519', 'algorithm', 'Ed25519');
    need(typeof newDoc.publicKey === 'string' && /^[A-Za-z0-9+\/]{43}=$/.test(newDoc.publicKey), 'publicKey', 'a base64 Ed25519 public key (32 bytes)');
    need(isIso(newDoc.createdAt), 'createdAt', 'an ISO 8601 time');
  }
  if (heartbeat) {
    need(typeof newDoc.version === 'string' && newDoc.version !== '' && newDoc.version.length <= 64, 'version', 'a version');
    need(isIso(newDoc.at), 'at', 'an ISO 8601 time');
    need(typeof newDoc.clockTrusted === 'boolean', 'clockTrusted', 'true or false');
    need(['idle', 'syncing', 'offline', 'error'].indexOf(newDoc.state) !== -1, 'state', 'idle, syncing, offline or error');
    need(newDoc.lastContactAt === null || isIso(newDoc.lastContactAt), 'lastContactAt', 'an ISO 8601 time or null');
    need(newDoc.lastSuccessAt === null || isIso(newDoc.lastSuccessAt), 'lastSuccessAt', 'an ISO 8601 time or null');
    var pending = newDoc.pending;
    need(pending === null || (isObject(pending) && isCount(pending.docs) && isCount(pending.bytes)), 'pending', '{docs, bytes} or null');
    need(isCount(newDoc.refused), 'refused', 'a whole number');
    need(isIso(newDoc.startedAt), 'startedAt', 'an ISO 8601 time');
  }
}`;

/** The design document as installed in `hall-<hallId>`. */
export function hallDesignDoc(hallId: string): {
  _id: string;
  language: 'javascript';
  hallId: string;
  version: number;
  validate_doc_update: string;
} {
  return {
    _id: HALL_DESIGN_DOC_ID,
    language: 'javascript',
    hallId,
    version: HALL_DESIGN_VERSION,
    validate_doc_update: VALIDATE_DOC_UPDATE,
  };
}
