import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DomainRegistry, type DomainChange } from '../../src/core/domains.ts';
import { Jid } from '../../src/core/jid.ts';

test('domains: static domains map to host types', () => {
  const d = new DomainRegistry();
  d.addStatic('Example.com', 'ht');
  d.addStatic('example.org', 'ht');
  d.addStatic('other.net', 'ht2');
  d.addStatic('example.com', 'ht'); // idempotent
  assert.is(d.hostTypeOf('example.com'), 'ht');
  assert.is(d.hostTypeOf('other.net'), 'ht2');
  assert.is(d.hostTypeOf('nope.net'), undefined);
  assert.equal(d.domainsOf('ht'), ['example.com', 'example.org']);
  assert.equal(d.domainsOf('none'), []);
  assert.equal(d.hostTypes(), ['ht', 'ht2']);
  assert.ok(d.isLocal('example.org'));
  assert.not.ok(d.isLocal('nope.net'));
  assert.throws(() => d.addStatic('example.com', 'ht2'), /already served/);
  assert.throws(() => d.addStatic('x.com', 'global'));
});

test('domains: subdomain patterns route to the parent host type but are not login domains', () => {
  const d = new DomainRegistry();
  d.addStatic('example.com', 'ht');
  const off = d.addSubdomainPattern('ht', 'muc.@HOST@');
  d.addStatic('example.org', 'ht'); // later domains get the subdomain too
  assert.is(d.hostTypeOf('muc.example.com'), undefined);
  assert.is(d.routeHostTypeOf('muc.example.com'), 'ht');
  assert.is(d.routeHostTypeOf('muc.example.org'), 'ht');
  assert.is(d.routeHostTypeOf('example.org'), 'ht');
  assert.is(d.parentDomainOf('muc.example.org'), 'example.org');
  assert.ok(d.isLocal('muc.example.com'));
  assert.ok(d.isSubdomain('muc.example.com'));
  off();
  assert.not.ok(d.isLocal('muc.example.com'));
  assert.is(d.routeHostTypeOf('muc.example.org'), undefined);
  assert.throws(() => d.addSubdomainPattern('ht', 'muc.example.com'), /@HOST@/);
});

test('domains: change listener sees domains and subdomains', () => {
  const d = new DomainRegistry();
  const seen: DomainChange[] = [];
  const off = d.onChange((c) => seen.push(c));
  d.addSubdomainPattern('ht', 'pubsub.@HOST@');
  d.addStatic('a.com', 'ht');
  off();
  d.addStatic('b.com', 'ht');
  assert.equal(seen, [
    { type: 'added', domain: 'a.com', hostType: 'ht' },
    { type: 'added', domain: 'pubsub.a.com', hostType: 'ht', parent: 'a.com' },
  ]);
});

test('domains: resolveJid answers like resolve and follows domain changes (memo per registry)', () => {
  const d = new DomainRegistry();
  const other = new DomainRegistry();
  other.addStatic('a.com', 'elsewhere');
  const alice = Jid.parse('alice@a.com/r');
  const muc = Jid.parse('room@muc.a.com');
  assert.is(d.resolveJid(alice), undefined);
  d.addDynamic('a.com', 'ht');
  assert.equal(d.resolveJid(alice), { hostType: 'ht', lserver: 'a.com', subdomain: false });
  assert.is(d.resolveJid(alice), d.resolve('a.com'));
  assert.is(other.resolveJid(alice)?.hostType, 'elsewhere');
  assert.is(d.resolveJid(alice)?.hostType, 'ht');
  assert.is(d.resolveJid(muc), undefined);
  const removePattern = d.addSubdomainPattern('ht', 'muc.@HOST@');
  assert.equal(d.resolveJid(muc), { hostType: 'ht', lserver: 'a.com', subdomain: true });
  removePattern();
  assert.is(d.resolveJid(muc), undefined);
  d.removeDynamic('a.com');
  assert.is(d.resolveJid(alice), undefined);
});

test.run();
