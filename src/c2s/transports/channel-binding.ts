/**
 * Channel-binding data for SCRAM-*-PLUS (RFC 5802 §6): `tls-exporter` (RFC 9266) and
 * `tls-server-end-point` (RFC 5929 §4).
 * @module
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { ChannelBindingType } from '../transport.ts';

// DER content bytes of signature-algorithm OIDs → the hash RFC 5929 §4.1 prescribes:
// the certificate's own signature hash, except MD5 and SHA-1, which become SHA-256.
const SIG_HASH: Readonly<Record<string, string>> = {
  '2a864886f70d010104': 'sha256', // md5WithRSAEncryption
  '2a864886f70d010105': 'sha256', // sha1WithRSAEncryption
  '2a864886f70d01010e': 'sha224', // sha224WithRSAEncryption
  '2a864886f70d01010b': 'sha256', // sha256WithRSAEncryption
  '2a864886f70d01010c': 'sha384', // sha384WithRSAEncryption
  '2a864886f70d01010d': 'sha512', // sha512WithRSAEncryption
  '2a8648ce3d0401': 'sha256', // ecdsa-with-SHA1
  '2a8648ce3d040301': 'sha224', // ecdsa-with-SHA224
  '2a8648ce3d040302': 'sha256', // ecdsa-with-SHA256
  '2a8648ce3d040303': 'sha384', // ecdsa-with-SHA384
  '2a8648ce3d040304': 'sha512', // ecdsa-with-SHA512
  '2a8648ce380403': 'sha256', // dsa-with-sha1
  '608648016503040302': 'sha256', // dsa-with-sha256
};

/** Read one DER TLV header at `pos`: [tag, content start, content end]. */
function tlv(der: Uint8Array, pos: number): [number, number, number] {
  const tag = der[pos]!;
  let len = der[pos + 1]!;
  let start = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error('unsupported DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
    start += n;
  }
  if (start + len > der.length) throw new Error('truncated DER');
  return [tag, start, start + len];
}

/** The OID (hex of its DER content) of a certificate's outer `signatureAlgorithm`. */
export function signatureAlgorithmOid(der: Uint8Array): string {
  const [t0, s0] = tlv(der, 0); // Certificate ::= SEQUENCE
  if (t0 !== 0x30) throw new Error('not a certificate');
  const [, , tbsEnd] = tlv(der, s0); // tbsCertificate
  const [t1, s1] = tlv(der, tbsEnd); // signatureAlgorithm AlgorithmIdentifier ::= SEQUENCE
  if (t1 !== 0x30) throw new Error('no signatureAlgorithm');
  const [t2, s2, e2] = tlv(der, s1);
  if (t2 !== 0x06) throw new Error('no algorithm OID');
  return Buffer.from(der.subarray(s2, e2)).toString('hex');
}

/**
 * RFC 5929 §4 `tls-server-end-point` data for a certificate (PEM or DER): its hash with the
 * certificate's signature hash (SHA-256 for MD5/SHA-1). `undefined` when the signature uses no
 * single hash (Ed25519, RSASSA-PSS), for which RFC 5929 leaves the binding undefined.
 */
export function tlsServerEndPoint(cert: string | Buffer): Buffer | undefined {
  const der = new X509Certificate(cert).raw;
  const hash = SIG_HASH[signatureAlgorithmOid(der)];
  return hash === undefined ? undefined : createHash(hash).update(der).digest();
}

/** RFC 9266 `tls-exporter` data of a TLS 1.3 socket (undefined on older TLS: RFC 9266 §3). */
export function tlsExporter(socket: TLSSocket): Buffer | undefined {
  if (socket.getProtocol() !== 'TLSv1.3') return undefined;
  return socket.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0));
}

/** The channel-binding types available on a TLS socket. */
export function availableBindings(socket: TLSSocket | undefined, serverEndPoint: Buffer | undefined): ChannelBindingType[] {
  if (socket === undefined) return [];
  const out: ChannelBindingType[] = [];
  if (socket.getProtocol() === 'TLSv1.3') out.push('tls-exporter');
  if (serverEndPoint !== undefined) out.push('tls-server-end-point');
  return out;
}
