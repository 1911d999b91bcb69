// DomainRegistry's dynamic side: addDynamic/removeDynamic as values, static pairs win, removal
// takes the derived subdomains along and is announced to onChange listeners.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DomainRegistry, type DomainChange } from '../../src/core/domains.ts';

test('dynamic domains: idempotent add, conflicts as values, static ones never removed', () => {
  const r = new DomainRegistry();
  r.addStatic('static.example', 'st');
  assert.is(r.addDynamic('a.example', 'tenants'), 'ok');
  assert.is(r.addDynamic('a.example', 'tenants'), 'ok');
  assert.is(r.addDynamic('a.example', 'other'), 'duplicate');
  assert.is(r.addDynamic('static.example', 'st'), 'static');
  assert.ok(r.isStatic('static.example'));
  assert.not.ok(r.isStatic('a.example'));
  assert.not.ok(r.removeDynamic('static.example'));
  assert.is(r.hostTypeOf('static.example'), 'st');
  assert.ok(r.removeDynamic('a.example'));
  assert.not.ok(r.removeDynamic('a.example'));
  assert.is(r.hostTypeOf('a.example'), undefined);
  assert.equal(r.domainsOf('tenants'), []);
  assert.throws(() => r.addDynamic('x.example', 'global'));
});

test('subdomains follow their dynamic parent in and out; listeners hear every change', () => {
  const r = new DomainRegistry();
  const seen: string[] = [];
  r.onChange((c: DomainChange) => seen.push(`${c.type} ${c.domain}${c.parent ? ` <${c.parent}` : ''}`));
  r.addSubdomainPattern('tenants', 'muc.@HOST@');
  r.addDynamic('a.example', 'tenants');
  assert.is(r.routeHostTypeOf('muc.a.example'), 'tenants');
  assert.is(r.hostTypeOf('muc.a.example'), undefined);
  assert.is(r.addDynamic('muc.a.example', 'tenants'), 'subdomain');
  assert.equal(r.subdomainNamesFor('tenants', 'gone.example'), ['muc.gone.example']);
  r.removeDynamic('a.example');
  assert.is(r.routeHostTypeOf('muc.a.example'), undefined);
  assert.equal(seen, ['added a.example', 'added muc.a.example <a.example', 'removed muc.a.example <a.example', 'removed a.example']);
});

test.run();
