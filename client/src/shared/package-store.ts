/**
 * Where the downloaded (still encrypted) exam package is kept on this device. A small interface
 * so that the storage can change (RxDB comes later) without touching the screens; for now one
 * IndexedDB object store, keyed by exam and student.
 */
export interface StoredPackage {
  examId: string;
  studentId: string;
  bytes: Uint8Array;
  savedAt: number;
}

export interface PackageStore {
  get(examId: string, studentId: string): Promise<StoredPackage | undefined>;
  put(pkg: StoredPackage): Promise<void>;
}

const DB_NAME = 'exam-hall';
const STORE = 'packages';

const key = (examId: string, studentId: string) => `${examId}|${studentId}`;

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

/** The IndexedDB store (one database, opened lazily and kept). */
export function indexedDbPackageStore(idb: IDBFactory = indexedDB): PackageStore {
  let db: Promise<IDBDatabase> | undefined;
  const open = () => {
    db ??= new Promise<IDBDatabase>((resolve, reject) => {
      const req = idb.open(DB_NAME, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error ?? new Error('IndexedDB cannot be opened'));
    });
    return db;
  };
  return {
    async get(examId, studentId) {
      const tx = (await open()).transaction(STORE, 'readonly');
      return (await request(tx.objectStore(STORE).get(key(examId, studentId)))) as StoredPackage | undefined;
    },
    async put(pkg) {
      const tx = (await open()).transaction(STORE, 'readwrite');
      await request(tx.objectStore(STORE).put(pkg, key(pkg.examId, pkg.studentId)));
      await new Promise<void>((resolve, reject) => {
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error ?? new Error('IndexedDB write failed'));
      });
    },
  };
}

/** A store in memory (tests, or a browser without IndexedDB: the package then lives as long as the tab). */
export function memoryPackageStore(): PackageStore {
  const all = new Map<string, StoredPackage>();
  return {
    get: (examId, studentId) => Promise.resolve(all.get(key(examId, studentId))),
    put: (pkg) => {
      all.set(key(pkg.examId, pkg.studentId), pkg);
      return Promise.resolve();
    },
  };
}
