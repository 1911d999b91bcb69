/**
 * Self-signed certificates for development servers and tests (`npm start` uses one so STARTTLS
 * and direct TLS work out of the box). Production deployments pass their own key and chain.
 * @module
 */
import { generate } from 'selfsigned';

/** A PEM key and certificate pair as `node:tls` takes it. */
export interface PemCertificate {
  readonly key: string;
  readonly cert: string;
}

/**
 * Generate a self-signed certificate for `domains` (first is the common name) plus the
 * loopback addresses. EC P-256 with SHA-256: fast to generate and accepted by every client
 * we test with.
 */
export async function selfSignedCertificate(domains: readonly string[] = ['localhost'], days = 825): Promise<PemCertificate> {
  const notAfter = new Date(Date.now() + days * 86_400_000);
  const pems = await generate([{ name: 'commonName', value: domains[0] ?? 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [...domains.map((d) => ({ type: 2 as const, value: d })), { type: 7 as const, ip: '127.0.0.1' }, { type: 7 as const, ip: '::1' }],
      },
    ],
  } as Parameters<typeof generate>[1]);
  return { key: pems.private, cert: pems.cert };
}
