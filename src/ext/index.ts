/**
 * Every bundled extension module (`xmpp-blocks/ext`), and the set the example server enables.
 * This file only gathers them; modules never import each other.
 * @module
 */
import type { XmppModule } from '../c2s/module.ts';
import { presence } from './presence/index.ts';
import { roster } from './roster/index.ts';
import { offline } from './offline/index.ts';
import { disco } from './disco/index.ts';
import { version } from './version/index.ts';
import { last } from './last/index.ts';
import { time } from './time/index.ts';
import { ping } from './ping/index.ts';
import { vcard } from './vcard/index.ts';
import { privateStorage } from './private/index.ts';
import { blocking } from './blocking/index.ts';
import { privacy } from './privacy/index.ts';
import { carbons } from './carbons/index.ts';
import { streamManagement } from './stream-management/index.ts';
import { csi } from './csi/index.ts';
import { mam } from './mam/index.ts';
import { inbox } from './inbox/index.ts';
import { domainIsolation } from './domain-isolation/index.ts';
import { sasl2 } from './sasl2/index.ts';
import { bind2 } from './bind2/index.ts';
import { fast } from './fast/index.ts';
import { pep } from './pep/index.ts';
import { mucLight } from './muc-light/index.ts';
import { httpUpload } from './http-upload/index.ts';
import { muc } from './muc/index.ts';

export { presence, roster, offline, disco, version, last, time, ping, vcard, privateStorage, blocking, privacy, carbons, streamManagement, csi, mam, inbox, sasl2, bind2, fast, pep, mucLight, muc, httpUpload, domainIsolation };

/**
 * What a modern IM server runs (the example server's set): RFC 6121 presence and roster,
 * offline storage, disco/version/last/time/ping, vCard and private storage, blocking and
 * privacy lists, carbons, stream management, CSI, MAM, inbox, and SASL2 with Bind2 (stream
 * management, carbons and CSI negotiable inline), FAST tokens, PEP (XEP-0163) and MUC Light
 * (`muclight.<domain>`), XEP-0045 MUC (`conference.<domain>`), HTTP File Upload (`upload.<domain>`, its own HTTP listener). Domain
 * isolation is opt-in.
 */
export function defaultModules(): XmppModule<any>[] {
  return [presence, roster, offline, disco, version, last, time, ping, vcard, privateStorage, blocking, privacy, carbons, streamManagement, csi, mam, inbox, sasl2, bind2, fast, pep, mucLight, muc, httpUpload];
}
