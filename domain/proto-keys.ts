/**
 * "__proto__" in received JSON: schema parsing would turn such a member into the object's
 * prototype and silently drop it, so a body or an answer file could pass validation with less
 * than it held. Both the HTTP edge and the answer-file check parse with this reviver.
 */

/** What refuseProtoKeys throws: the text has a "__proto__" member. */
export class ProtoKey extends Error {}

/**
 * JSON.parse reviver that refuses "__proto__" members (throws ProtoKey):
 * `JSON.parse(text, refuseProtoKeys)`.
 */
export function refuseProtoKeys(key: string, value: unknown): unknown {
  if (key === '__proto__') throw new ProtoKey('"__proto__" is not an allowed member name');
  return value;
}
