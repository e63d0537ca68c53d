/** Version numbers of the exam app (major.minor.patch). */

const SEMVER = /^(\d+)\.(\d+)\.(\d+)$/;

/** Parses "1.2.3"; undefined when it is not of that form. */
export function parseVersion(v: string): [number, number, number] | undefined {
  const m = SEMVER.exec(v.trim());
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** True when `version` is at least `minimum`; false for anything unparseable. */
export function meetsMinimumVersion(version: string, minimum: string): boolean {
  const a = parseVersion(version);
  const b = parseVersion(minimum);
  if (!a || !b) return false;
  for (let i = 0; i < 3; i++) {
    if (a[i]! !== b[i]!) return a[i]! > b[i]!;
  }
  return true;
}
