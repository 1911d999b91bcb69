/** vcard-temp (XEP-0054) storage. @module */

/** One vCard per user, stored as the serialized `<vCard/>` element. */
export interface VCardStore {
  get(hostType: string, domain: string, user: string): Promise<string | undefined>;
  set(hostType: string, domain: string, user: string, xml: string): Promise<void>;
  /** `false` when there was none. */
  removeUser(hostType: string, domain: string, user: string): Promise<boolean>;
  removeDomain(hostType: string, domain: string): Promise<void>;
}
