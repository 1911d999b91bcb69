/**
 * Namespaces of XEP-0060 publish-subscribe as used by PEP (XEP-0163), and of XEP-0115 entity
 * capabilities.
 * @module
 */

/** `http://jabber.org/protocol/pubsub` (XEP-0060). */
export const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';
/** Notifications (`<event/>`). */
export const NS_PUBSUB_EVENT = 'http://jabber.org/protocol/pubsub#event';
/** Owner use cases (configure, delete, purge). */
export const NS_PUBSUB_OWNER = 'http://jabber.org/protocol/pubsub#owner';
/** Application-specific error conditions. */
export const NS_PUBSUB_ERRORS = 'http://jabber.org/protocol/pubsub#errors';
/** `FORM_TYPE` of publish options (XEP-0060 §7.1.5). */
export const NS_PUBSUB_PUBLISH_OPTIONS = 'http://jabber.org/protocol/pubsub#publish-options';
/** `FORM_TYPE` of node configuration (XEP-0060 §16.4.4). */
export const NS_PUBSUB_NODE_CONFIG = 'http://jabber.org/protocol/pubsub#node_config';
/** `http://jabber.org/protocol/caps` (XEP-0115). */
export const NS_CAPS = 'http://jabber.org/protocol/caps';
