/**
 * The pubsub IQs a PEP service answers on an account's bare JID (XEP-0060 as profiled by
 * XEP-0163): publish (auto-create, publish-options), retract, create, items; owner
 * configure/default/delete/purge. Everything else is `feature-not-implemented` +
 * `<unsupported/>`.
 * @module
 */
import { Acc } from '../../core/acc.ts';
import { StanzaError } from '../../core/errors.ts';
import { resultAcc, type IqHandlerResult } from '../../core/iq-handlers.ts';
import type { Jid } from '../../core/jid.ts';
import { NS } from '../../core/namespaces.ts';
import { xml, type XmlElement } from '../../core/xml/element.ts';
import type { ModuleIqHandler } from '../../c2s/module.ts';
import {
  applyConfig,
  booleanAttr,
  configForm,
  DEFAULT_CONFIG,
  effectiveMaxItems,
  NOTIFY_DELETE,
  NOTIFY_RETRACT,
  pubsubError,
  readConfigForm,
  unsupported,
} from './config.ts';
import { NS_PUBSUB, NS_PUBSUB_EVENT, NS_PUBSUB_OWNER } from './namespaces.ts';
import { itemElement, PepService } from './service.ts';

type Result = IqHandlerResult | Promise<IqHandlerResult>;

/** The node named by `el`'s `node` attribute; `bad-request` + `<nodeid-required/>` without one. */
function nodeOf(el: XmlElement): string {
  const node = el.attrs.node;
  if (node === undefined || node === '') throw pubsubError('bad-request', 'nodeid-required');
  PepService.checkName(node, 'node name');
  return node;
}

/** Only the account itself manages its nodes (XEP-0060 §7.1.3.1, §8: `forbidden`). */
function ownerOf(acc: Acc): Jid {
  if (!acc.from.bareEquals(acc.to)) throw new StanzaError('forbidden', 'only the account owner may do this');
  return acc.to.bare();
}

/** The IQ handlers of one host type. */
export function pepIqHandlers(svc: PepService): ModuleIqHandler[] {
  const env = svc.env;
  // The result goes out before the notifications (the handler then returns `undefined`).
  const reply = (acc: Acc, ...payload: XmlElement[]) => {
    env.router.route(resultAcc(acc, payload, env.clock));
  };

  /** XEP-0060 §7.1 with XEP-0163 §3 auto-create and §7.1.5 publish options. */
  const publish = async (acc: Acc, el: XmlElement, optionsEl: XmlElement | undefined): Promise<IqHandlerResult> => {
    const owner = ownerOf(acc);
    const node = nodeOf(el);
    const items = el.getChildren('item', NS_PUBSUB);
    if (items.length === 0) throw pubsubError('bad-request', 'item-required');
    if (items.length > 1) throw pubsubError('bad-request', 'invalid-payload', 'one item per publish');
    const item = items[0]!;
    const payloads = item.elements();
    if (payloads.length === 0) throw pubsubError('bad-request', 'payload-required');
    if (payloads.length > 1) throw pubsubError('bad-request', 'invalid-payload', 'one payload element per item');
    const payload = payloads[0]!;
    const id = item.attrs.id || svc.newItemId();
    PepService.checkName(id, 'item id');
    const options = optionsEl === undefined ? undefined : readConfigForm(optionsEl, 'publish-options', svc.limits);
    return svc.locked(owner, async () => {
      let config = (await svc.getNode(owner, node))?.config;
      if (config === undefined) {
        config = applyConfig(DEFAULT_CONFIG, options ?? new Map());
        if ((await svc.create(owner, node, config)) === 'exists') config = (await svc.getNode(owner, node))!.config;
      } else if (options !== undefined) {
        for (const [k, v] of options) {
          if ((config[k] ?? '') !== v) throw pubsubError('conflict', 'precondition-not-met', `${k} is ${config[k] ?? 'unset'}`);
        }
      }
      await svc.publish(owner, node, config, id, payload);
      reply(acc, xml('pubsub', { xmlns: NS_PUBSUB }, xml('publish', { node }, xml('item', { id }))));
      const event = xml('event', { xmlns: NS_PUBSUB_EVENT }, xml('items', { node }, xml('item', { id }, payload)));
      await svc.broadcast(owner, node, config, event);
      return undefined;
    });
  };

  /** XEP-0060 §7.2. */
  const retract = async (acc: Acc, el: XmlElement): Promise<IqHandlerResult> => {
    const owner = ownerOf(acc);
    const node = nodeOf(el);
    const ids = el.getChildren('item', NS_PUBSUB).map((i) => i.attrs.id);
    if (ids.length !== 1 || !ids[0]) throw pubsubError('bad-request', 'item-required');
    const id = ids[0];
    const notifyAttr = booleanAttr(el.attrs.notify);
    return svc.locked(owner, async () => {
      const n = await svc.getNode(owner, node);
      if (n === undefined) return new StanzaError('item-not-found');
      if (!(await env.storage.pep.retract(env.hostType, owner.domain, owner.local, node, id))) return new StanzaError('item-not-found');
      reply(acc);
      // §7.2.2.1: `notify` decides; without it the node's notify_retract does.
      if (notifyAttr ?? n.config[NOTIFY_RETRACT] === 'true') {
        await svc.broadcast(owner, node, n.config, xml('event', { xmlns: NS_PUBSUB_EVENT }, xml('items', { node }, xml('retract', { id }))));
      }
      return undefined;
    });
  };

  /** XEP-0060 §8.1 (PEP nodes always have a name: no instant nodes). */
  const create = async (acc: Acc, el: XmlElement, configure: XmlElement | undefined): Promise<IqHandlerResult> => {
    const owner = ownerOf(acc);
    if (!el.attrs.node) throw pubsubError('not-acceptable', 'nodeid-required');
    const node = nodeOf(el);
    const changes = configure === undefined ? undefined : readConfigForm(configure, 'configure', svc.limits);
    return svc.locked(owner, async () => {
      if ((await svc.create(owner, node, applyConfig(DEFAULT_CONFIG, changes ?? new Map()))) === 'exists') return new StanzaError('conflict', 'the node exists');
      return null;
    });
  };

  /** XEP-0060 §6.5: all items, the `max_items` newest, or the ones named; oldest first. */
  const items = async (acc: Acc, el: XmlElement): Promise<IqHandlerResult> => {
    const owner = acc.to.bare();
    const node = nodeOf(el);
    let max: number | undefined;
    if (el.attrs.max_items !== undefined) {
      if (!/^\s*\d{1,9}\s*$/.test(el.attrs.max_items) || Number(el.attrs.max_items) < 1) return new StanzaError('bad-request', 'max_items must be a positive integer');
      max = Number(el.attrs.max_items);
    }
    const ids = el.getChildren('item', NS_PUBSUB).map((i) => i.attrs.id);
    if (ids.some((id) => !id)) return new StanzaError('bad-request', 'item without id');
    const n = await svc.getNode(owner, node);
    if (n === undefined) return new StanzaError('item-not-found');
    const denied = await svc.retrieveDenied(owner, acc.from, n.config);
    if (denied !== undefined) return denied;
    const got = (await env.storage.pep.getItems(env.hostType, owner.domain, owner.local, node, ids.length > 0 ? { ids: ids as string[] } : max !== undefined ? { max } : undefined)) ?? [];
    const ordered = ids.length > 0 ? got : got.reverse();
    return xml('pubsub', { xmlns: NS_PUBSUB }, xml('items', { node }, ordered.map(itemElement)));
  };

  const ownerNode = async (acc: Acc, el: XmlElement) => {
    const owner = ownerOf(acc);
    const node = nodeOf(el);
    return { owner, node };
  };

  /** XEP-0060 §8.2.1 / §8.2.4. */
  const configureGet = async (acc: Acc, el: XmlElement): Promise<IqHandlerResult> => {
    const { owner, node } = await ownerNode(acc, el);
    const n = await svc.getNode(owner, node);
    if (n === undefined) return new StanzaError('item-not-found');
    return xml('pubsub', { xmlns: NS_PUBSUB_OWNER }, xml('configure', { node }, configForm(n.config)));
  };

  const configureSet = async (acc: Acc, el: XmlElement): Promise<IqHandlerResult> => {
    const { owner, node } = await ownerNode(acc, el);
    const cancel = el.getChild('x', NS.DATA_FORMS)?.attrs.type === 'cancel';
    const changes = cancel ? undefined : readConfigForm(el, 'configure', svc.limits);
    if (!cancel && changes === undefined) return new StanzaError('bad-request', 'a configuration form is required');
    return svc.locked(owner, async () => {
      const n = await svc.getNode(owner, node);
      if (n === undefined) return new StanzaError('item-not-found');
      if (changes === undefined) return null;
      const config = applyConfig(n.config, changes);
      await env.storage.pep.configureNode(env.hostType, owner.domain, owner.local, node, config);
      if (effectiveMaxItems(config, svc.limits) < effectiveMaxItems(n.config, svc.limits)) await svc.trim(owner, node, config);
      return null;
    });
  };

  /** XEP-0060 §8.4. */
  const deleteNode = async (acc: Acc, el: XmlElement): Promise<IqHandlerResult> => {
    const { owner, node } = await ownerNode(acc, el);
    return svc.locked(owner, async () => {
      const n = await svc.getNode(owner, node);
      if (n === undefined || !(await env.storage.pep.deleteNode(env.hostType, owner.domain, owner.local, node))) return new StanzaError('item-not-found');
      reply(acc);
      if (n.config[NOTIFY_DELETE] !== 'false') await svc.broadcast(owner, node, n.config, xml('event', { xmlns: NS_PUBSUB_EVENT }, xml('delete', { node })));
      return undefined;
    });
  };

  /** XEP-0060 §8.5. */
  const purge = async (acc: Acc, el: XmlElement): Promise<IqHandlerResult> => {
    const { owner, node } = await ownerNode(acc, el);
    return svc.locked(owner, async () => {
      const n = await svc.getNode(owner, node);
      if (n === undefined || !(await env.storage.pep.purge(env.hostType, owner.domain, owner.local, node))) return new StanzaError('item-not-found');
      reply(acc);
      if (n.config[NOTIFY_RETRACT] === 'true') await svc.broadcast(owner, node, n.config, xml('event', { xmlns: NS_PUBSUB_EVENT }, xml('purge', { node })));
      return undefined;
    });
  };

  /** Thrown StanzaErrors (validation helpers) become answers; the registry maps them too, but without a log line. */
  const guard =
    (f: (acc: Acc, payload: XmlElement) => Result) =>
    async (acc: Acc, _iq: XmlElement, payload: XmlElement): Promise<IqHandlerResult> => {
      try {
        return await f(acc, payload);
      } catch (err) {
        if (err instanceof StanzaError) return err;
        throw err;
      }
    };

  const pubsubSet = (acc: Acc, ps: XmlElement): Result => {
    const action = ps.elements().find((e) => e.ns === NS_PUBSUB && e.name !== 'publish-options' && e.name !== 'configure' && e.name !== 'options');
    switch (action?.name) {
      case 'publish':
        return publish(acc, action, ps.getChild('publish-options', NS_PUBSUB));
      case 'retract':
        return retract(acc, action);
      case 'create':
        return create(acc, action, ps.getChild('configure', NS_PUBSUB));
      case 'subscribe':
        return unsupported('subscribe');
      case 'unsubscribe':
        return unsupported('subscribe');
      default:
        return ps.getChild('options', NS_PUBSUB) ? unsupported('subscription-options') : new StanzaError('bad-request', 'no pubsub action');
    }
  };

  const pubsubGet = (acc: Acc, ps: XmlElement): Result => {
    const action = ps.elements().find((e) => e.ns === NS_PUBSUB);
    switch (action?.name) {
      case 'items':
        return items(acc, action);
      case 'subscriptions':
        return unsupported('retrieve-subscriptions');
      case 'affiliations':
        return unsupported('retrieve-affiliations');
      case 'options':
      case 'default':
        return unsupported('subscription-options');
      default:
        return new StanzaError('bad-request', 'no pubsub action');
    }
  };

  const ownerGet = (acc: Acc, ps: XmlElement): Result => {
    const action = ps.elements().find((e) => e.ns === NS_PUBSUB_OWNER);
    switch (action?.name) {
      case 'configure':
        return configureGet(acc, action);
      case 'default':
        // §8.3: the default configuration of a new node.
        ownerOf(acc);
        return xml('pubsub', { xmlns: NS_PUBSUB_OWNER }, xml('default', null, configForm(DEFAULT_CONFIG)));
      case 'subscriptions':
        return unsupported('manage-subscriptions');
      case 'affiliations':
        return unsupported('modify-affiliations');
      default:
        return new StanzaError('bad-request', 'no pubsub owner action');
    }
  };

  const ownerSet = (acc: Acc, ps: XmlElement): Result => {
    const action = ps.elements().find((e) => e.ns === NS_PUBSUB_OWNER);
    switch (action?.name) {
      case 'configure':
        return configureSet(acc, action);
      case 'delete':
        return deleteNode(acc, action);
      case 'purge':
        return purge(acc, action);
      case 'subscriptions':
        return unsupported('manage-subscriptions');
      case 'affiliations':
        return unsupported('modify-affiliations');
      default:
        return new StanzaError('bad-request', 'no pubsub owner action');
    }
  };

  return [
    { key: { target: 'user', type: 'set', ns: NS_PUBSUB, name: 'pubsub' }, handler: guard(pubsubSet) },
    { key: { target: 'user', type: 'get', ns: NS_PUBSUB, name: 'pubsub' }, handler: guard(pubsubGet) },
    { key: { target: 'user', type: 'set', ns: NS_PUBSUB_OWNER, name: 'pubsub' }, handler: guard(ownerSet) },
    { key: { target: 'user', type: 'get', ns: NS_PUBSUB_OWNER, name: 'pubsub' }, handler: guard(ownerGet) },
  ];
}
