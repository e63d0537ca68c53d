/**
 * What this device keeps between visits: its device id (made once; the appliance binds an
 * examinee's session to one device) and the session token of the examinee signed in here.
 */
const DEVICE_ID_KEY = 'exam-hall.device-id';
const SESSION_KEY = 'exam-hall.session';

/** 24 random bytes as base64url: 32 characters of [A-Za-z0-9_-], as the appliance expects. */
function newDeviceId(): string {
  // crypto.getRandomValues works on plain HTTP too (unlike crypto.randomUUID).
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/** This device's id: made on the first visit, the same ever after (until the browser's storage is cleared). */
export function deviceId(storage: Storage = localStorage): string {
  const known = storage.getItem(DEVICE_ID_KEY);
  if (known !== null && /^[A-Za-z0-9_-]{16,128}$/.test(known)) return known;
  const id = newDeviceId();
  storage.setItem(DEVICE_ID_KEY, id);
  return id;
}

export function savedSessionToken(storage: Storage = localStorage): string | undefined {
  return storage.getItem(SESSION_KEY) ?? undefined;
}

export function saveSessionToken(token: string | undefined, storage: Storage = localStorage): void {
  if (token === undefined) storage.removeItem(SESSION_KEY);
  else storage.setItem(SESSION_KEY, token);
}
