/**
 * The bundle's stand-in for jsonwebtoken (lib/bundle/jsonwebtoken-sign.ts) against the real
 * package, resolved from MSAL's own dependency so it is the version the stand-in replaces: same
 * tokens for the keys MSAL can be given, the same refusals for the ones it cannot use.
 */
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomUUID,
} from 'node:crypto';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import shim, { sign } from '../../lib/bundle/jsonwebtoken-sign.ts';

interface JsonWebToken {
  sign(payload: object, key: unknown, options: object): string;
  verify(token: string, key: unknown, options: object): Record<string, unknown>;
  decode(token: string, options: { complete: true }): { header: object; payload: object };
}
const require = createRequire(import.meta.url);
const jwt = createRequire(require.resolve('@azure/msal-node'))('jsonwebtoken') as JsonWebToken;

type Alg = 'RS256' | 'PS256';

/** What MSAL's ClientAssertion.createJwt signs (msal-node 7.2.1). */
function msalAssertion(alg: Alg) {
  const now = Math.floor(Date.now() / 1000);
  const thumbprint = createHash(alg === 'PS256' ? 'sha256' : 'sha1')
    .update('certificate')
    .digest('base64url');
  return {
    header: {
      alg,
      [alg === 'PS256' ? 'x5t#S256' : 'x5t']: thumbprint,
      x5c: ['MIIBcertificate-base64'],
    },
    payload: {
      aud: 'https://login.example/tenant/oauth2/v2.0/token',
      exp: now + 600,
      iss: 'client-id',
      sub: 'client-id',
      nbf: now,
      jti: randomUUID(),
    },
  };
}

const rsa2048 = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsa3072 = generateKeyPairSync('rsa', { modulusLength: 3072 });
const rsaPss = generateKeyPairSync('rsa-pss', {
  modulusLength: 2048,
  hashAlgorithm: 'sha256',
  mgf1HashAlgorithm: 'sha256',
});
const pem = (key: KeyObject, type: 'pkcs1' | 'pkcs8') =>
  key.export({ type, format: 'pem' }).toString();

/** Keys MSAL may be handed, with the algorithms jsonwebtoken signs with them. */
const accepted: { name: string; key: () => string | KeyObject; pub: KeyObject; algs: Alg[] }[] = [
  {
    name: 'RSA 2048, PKCS#8 PEM',
    key: () => pem(rsa2048.privateKey, 'pkcs8'),
    pub: rsa2048.publicKey,
    algs: ['RS256', 'PS256'],
  },
  {
    name: 'RSA 2048, PKCS#1 PEM',
    key: () => pem(rsa2048.privateKey, 'pkcs1'),
    pub: rsa2048.publicKey,
    algs: ['RS256', 'PS256'],
  },
  {
    name: 'RSA 3072, KeyObject',
    key: () => rsa3072.privateKey,
    pub: rsa3072.publicKey,
    algs: ['RS256', 'PS256'],
  },
  {
    name: 'RSA-PSS (SHA-256), PKCS#8 PEM',
    key: () => pem(rsaPss.privateKey, 'pkcs8'),
    pub: rsaPss.publicKey,
    algs: ['PS256'],
  },
];

afterEach(() => {
  vi.restoreAllMocks();
});

describe('the jsonwebtoken stand-in signs what MSAL asks for as jsonwebtoken does', () => {
  for (const { name, key, pub, algs } of accepted) {
    for (const alg of algs) {
      it(`${alg} with ${name}: jsonwebtoken verifies it, same header and claims`, () => {
        vi.spyOn(Date, 'now').mockReturnValue(1_790_000_000_123);
        const { header, payload } = msalAssertion(alg);
        const ours = shim.sign(payload, key(), { header });
        const theirs = jwt.sign(payload, key(), { header });

        const claims = jwt.verify(ours, pub, {
          algorithms: [alg],
          audience: payload.aud,
          issuer: 'client-id',
          subject: 'client-id',
          clockTimestamp: 1_790_000_000,
        });
        expect(claims).toEqual({ ...payload, iat: 1_790_000_000 });
        const [ourHeader, ourClaims] = ours.split('.');
        const [theirHeader, theirClaims, theirSignature] = theirs.split('.');
        // Byte for byte: same JSON, same key order (typ after alg, iat last).
        expect([ourHeader, ourClaims]).toEqual([theirHeader, theirClaims]);
        expect(jwt.decode(ours, { complete: true }).header).toEqual({ ...header, typ: 'JWT' });
        // PKCS#1 v1.5 is deterministic; PSS is salted, so only verification can compare those.
        if (alg === 'RS256') expect(ours.split('.')[2]).toBe(theirSignature);
      });
    }
  }

  it('keeps an iat the payload already has, and does not touch the caller’s payload', () => {
    const { header, payload } = msalAssertion('RS256');
    const withIat = { ...payload, iat: 1234 };
    const token = sign(withIat, rsa2048.privateKey, { header });
    expect(jwt.verify(token, rsa2048.publicKey, { ignoreExpiration: true }).iat).toBe(1234);
    const untouched = { ...payload };
    sign(untouched, rsa2048.privateKey, { header });
    expect(untouched).toEqual(payload);
  });
});

describe('keys and calls the stand-in refuses, as jsonwebtoken does', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const pssUnrestricted = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
  const ed25519 = generateKeyPairSync('ed25519');
  const encrypted = rsa2048.privateKey
    .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' })
    .toString();
  const refused: { name: string; key: string | KeyObject; alg: Alg }[] = [
    { name: 'an EC key', key: pem(ec.privateKey, 'pkcs8'), alg: 'PS256' },
    { name: 'an Ed25519 key', key: pem(ed25519.privateKey, 'pkcs8'), alg: 'RS256' },
    { name: 'a 1024-bit RSA key', key: pem(rsa1024.privateKey, 'pkcs8'), alg: 'RS256' },
    { name: 'an RSA-PSS key for RS256', key: pem(rsaPss.privateKey, 'pkcs8'), alg: 'RS256' },
    {
      name: 'an RSA-PSS key without SHA-256 parameters',
      key: pem(pssUnrestricted.privateKey, 'pkcs8'),
      alg: 'PS256',
    },
    { name: 'an encrypted PEM key', key: encrypted, alg: 'PS256' },
    {
      name: 'a public key',
      key: createPublicKey(rsa2048.privateKey).export({ type: 'spki', format: 'pem' }).toString(),
      alg: 'RS256',
    },
    { name: 'text that is no key', key: 'not a key', alg: 'RS256' },
  ];
  for (const { name, key, alg } of refused) {
    it(`${alg} with ${name}`, () => {
      const { header, payload } = msalAssertion(alg);
      expect(() => jwt.sign(payload, key, { header })).toThrow();
      expect(() => sign(payload, key, { header })).toThrow(/jsonwebtoken stand-in/);
    });
  }

  it('never puts key material in the error', () => {
    const { header, payload } = msalAssertion('PS256');
    expect(() => sign(payload, encrypted, { header })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('BEGIN') }),
    );
  });

  it('refuses what MSAL does not call, instead of signing differently', () => {
    const { header, payload } = msalAssertion('RS256');
    const key = rsa2048.privateKey;
    expect(() => sign(payload, key, { header, expiresIn: 60 } as never)).toThrow(/expiresIn/);
    expect(() => sign(payload, key, { header: { alg: 'HS256' } })).toThrow(/HS256/);
    expect(() => sign(payload, key, { header: { ...header, alg: 'ES256' } })).toThrow(/ES256/);
    expect(() => sign(payload, key, { header }, () => {})).toThrow(/only sign/);
  });
});
