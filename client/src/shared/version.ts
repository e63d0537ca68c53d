/**
 * This client's version, sent as `X-Client-Version` with every examinee request; the appliance
 * answers 426 when an exam needs a newer client. It is the product version (package.json).
 */
export const CLIENT_VERSION: string = __CLIENT_VERSION__;
