/** Fill and inspect every storage port for one user (the "nothing left" checks). @module */
import type { Storage } from '../../src/core/storage/storage.ts';

/** A MUC service outside every tested domain: removing a domain must drop its users' affiliations there. */
const SHARED_MUC = 'conference.shared.example';

/** One row of every user-scoped storage port for `user@domain`. */
export async function fillEveryPort(st: Storage, ht: string, domain: string, user: string): Promise<void> {
  await st.roster.upsertItem(ht, domain, user, { jid: `friend@${domain}`, name: 'f', subscription: 'both', ask: 'none', pendingIn: false, approved: false, groups: ['g'] });
  await st.offline.push(ht, domain, user, { from: `x@${domain}/r`, to: `${user}@${domain}`, timestamp: 1, xml: '<message/>' });
  await st.mam.append(ht, domain, user, { id: '0000000001', timestamp: 1, peer: `x@${domain}`, peerResource: '', direction: 'in', xml: '<message/>' });
  await st.inbox.upsert(ht, domain, user, { remoteJid: `x@${domain}`, msgId: 'm', xml: '<message/>', timestamp: 1, unread: 'increment' });
  await st.privacy.setList(ht, domain, user, 'l', []);
  await st.vcard.set(ht, domain, user, '<vCard xmlns="vcard-temp"/>');
  await st.private.set(ht, domain, user, { 'ns:x': '<x xmlns="ns:x"/>' });
  await st.last.set(ht, domain, user, { seconds: 1, status: '' });
  await st.mucLight.create(ht, { domain: `muclight.${domain}`, name: 'room', version: 'v1', config: {}, members: [{ user, domain, affiliation: 'owner' }] });
  await st.fastTokens.set(ht, domain, user, 'agent-1', { current: { token: 't', mechanism: 'HT-SHA-256-NONE', expiresAt: 1 }, previous: undefined, count: 0 });
  await st.pep.createNode(ht, domain, user, 'urn:xmpp:avatar:metadata', { 'pubsub#access_model': 'presence' });
  await st.pep.publish(ht, domain, user, 'urn:xmpp:avatar:metadata', { id: 'a1', payload: '<metadata xmlns="urn:xmpp:avatar:metadata"/>', publisher: `${user}@${domain}`, timestamp: 1 }, 1);
  const jid = `${user}@${domain}`;
  await st.muc.saveRoom(ht, `conference.${domain}`, { name: 'room', config: { 'muc#roomconfig_persistentroom': '1' }, affiliations: [{ jid, affiliation: 'owner' }], subject: { text: 's', by: user } });
  const lobby = await st.muc.getRoom(ht, SHARED_MUC, 'lobby');
  const others = lobby?.affiliations.filter((a) => a.jid !== jid) ?? [];
  await st.muc.saveRoom(ht, SHARED_MUC, { name: 'lobby', config: {}, affiliations: [...others, { jid, affiliation: 'member' }] });
}

/** What every port still holds for `user@domain` (empty when all is gone). */
export async function leftovers(st: Storage, ht: string, domain: string, user: string): Promise<string[]> {
  const left: string[] = [];
  if ((await st.auth.exists(ht, domain, user)) || (await st.auth.listUsers(ht, domain)).length) left.push('auth');
  if ((await st.roster.getRoster(ht, domain, user)).items.length) left.push('roster');
  if ((await st.offline.count(ht, domain, user)) > 0) left.push('offline');
  if ((await st.mam.query(ht, domain, user)).rows.length) left.push('mam');
  if ((await st.inbox.query(ht, domain, user)).length) left.push('inbox');
  if ((await st.privacy.getListNames(ht, domain, user)).names.length) left.push('privacy');
  if (await st.vcard.get(ht, domain, user)) left.push('vcard');
  if (await st.private.get(ht, domain, user, 'ns:x')) left.push('private');
  if (await st.last.get(ht, domain, user)) left.push('last');
  if (await st.mucLight.get(ht, `muclight.${domain}`, 'room')) left.push('mucLight rooms');
  if ((await st.mucLight.roomsOfUser(ht, domain, user)).length) left.push('mucLight members');
  if ((await st.fastTokens.agents(ht, domain, user)).length) left.push('fastTokens');
  if ((await st.pep.listNodes(ht, domain, user)).length) left.push('pep nodes');
  if (await st.pep.getItems(ht, domain, user, 'urn:xmpp:avatar:metadata')) left.push('pep items');
  if (await st.muc.getRoom(ht, `conference.${domain}`, 'room')) left.push('muc rooms');
  if ((await st.muc.getRoom(ht, SHARED_MUC, 'lobby'))?.affiliations.some((a) => a.jid === `${user}@${domain}`)) left.push('muc affiliations');
  if ((await st.sessions.byDomain(domain)).length) left.push('sessions');
  if (await st.domains.get(domain)) left.push('domains');
  return left;
}

