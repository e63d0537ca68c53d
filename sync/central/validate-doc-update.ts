/**
 * The central hall database's design document `_design/hall`: its `validate_doc_update` decides
 * what a hall's credentials may write.
 *
 * Rules (CouchDB calls the function for every write, replicated ones included):
 * - A server or database admin (role `_admin`) may write anything: the institution's CLI
 *   publishes exams and rosters with admin credentials.
 * - Anyone else (the hall's user) may only create appliance-owned documents:
 *   `event:<examId>:<applianceId>:<seq>` (type "event"), `submission:<examId>:<studentId>:<n>`
 *   (type "submission") and `blob:<sha256>:<i>` (type "blob-chunk"), each carrying an
 *   `applianceId` for which the user holds the role `appliance:<applianceId>`. An event's id must
 *   name the same appliance id.
 * - Appliance-owned documents are immutable: no update and no deletion of an existing one.
 * - Everything else is refused: `exam:`, `examinee:`, assets, drafts (never pushed), design
 *   documents, and ids of any other shape.
 *
 * The function is kept as source text, in the JavaScript every CouchDB 3 query server runs
 * (ES5: no arrow functions, no let/const, no String#startsWith), and is installed exactly as
 * written here; the tests evaluate this same text.
 */

/** The design document's id. */
export const HALL_DESIGN_DOC_ID = '_design/hall';

/** Bumped whenever the rules change, so `install-design` can tell whether an update is needed. */
export const HALL_DESIGN_VERSION = 1;

/** The role a hall's user needs to write an appliance's documents. */
export const applianceRole = (applianceId: string) => `appliance:${applianceId}`;

export const VALIDATE_DOC_UPDATE = `function (newDoc, oldDoc, userCtx, secObj) {
  var roles = (userCtx && userCtx.roles) || [];
  if (roles.indexOf('_admin') !== -1) return;
  var id = String(newDoc._id);
  if (newDoc._deleted) {
    throw { forbidden: 'A hall may not delete documents (' + id + ').' };
  }
  var parts = id.split(':');
  if (parts[0] === 'appliance-status') {
    if (parts.length !== 2 || newDoc.type !== 'appliance-status' || newDoc.applianceId !== parts[1]) {
      throw { forbidden: id + ' must be the heartbeat of appliance ' + parts[1] + '.' };
    }
    if (roles.indexOf('appliance:' + parts[1]) === -1) {
      throw { forbidden: 'This user may not write the heartbeat of appliance ' + parts[1] + '.' };
    }
    return;
  }
  if (oldDoc && !oldDoc._deleted) {
    throw { forbidden: 'Appliance documents are immutable: ' + id + ' exists already.' };
  }
  var kinds = { event: 'event', submission: 'submission', blob: 'blob-chunk', 'receipt-key': 'receipt-key' };
  var type = kinds.hasOwnProperty(parts[0]) ? kinds[parts[0]] : undefined;
  if (!type) {
    throw { forbidden: 'A hall may only create event:, submission:, blob: and receipt-key: documents, not ' + id + '.' };
  }
  if (newDoc.type !== type) {
    throw { forbidden: id + ' must have type "' + type + '".' };
  }
  var appliance = newDoc.applianceId;
  if (typeof appliance !== 'string' || appliance === '') {
    throw { forbidden: id + ' carries no applianceId.' };
  }
  if (roles.indexOf('appliance:' + appliance) === -1) {
    throw { forbidden: 'This user may not write for appliance ' + appliance + ' (needs role appliance:' + appliance + ').' };
  }
  if (type === 'event' && (parts.length !== 4 || parts[2] !== appliance || newDoc.examId !== parts[1])) {
    throw { forbidden: id + ' does not match its examId and applianceId.' };
  }
  if (type === 'receipt-key' && (parts.length !== 2 || parts[1] !== appliance)) {
    throw { forbidden: id + ' does not match its applianceId.' };
  }
  if (type === 'submission' && ((parts.length !== 4 && parts.length !== 5) || newDoc.examId !== parts[1] || newDoc.studentId !== parts[2] || (parts.length === 5 && parts[3] !== appliance))) {
    throw { forbidden: id + ' does not match its examId and studentId.' };
  }
  if (type === 'blob-chunk' && (parts.length !== 3 || newDoc.sha256 !== parts[1] || String(newDoc.index) !== parts[2])) {
    throw { forbidden: id + ' does not match its sha256 and index.' };
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
