/**
 * Stands in for the `jsonwebtoken` package in the Lambda bundle (esbuild `--alias`, see
 * `infra/sender-bundling.ts`); the unbundled code (tests, the CLI, `doctor`) still runs the real one.
 *
 * Why hand-written: MSAL node imports jsonwebtoken for exactly one call, `jwt.sign(payload,
 * privateKey, { header })` in its `ClientAssertion` (the RFC 7523 client assertion of a certificate
 * credential, RS256 with `x5t` or PS256 with `x5t#S256`, optionally `x5c`). With jsonwebtoken come
 * jws, jwa, semver, ms, safe-buffer and six lodash packages: about 57 KB of the
 * sender bundle, for what `node:crypto` does in one `sign()`. This module does that call the
 * way jsonwebtoken 9 does it, and refuses everything else loudly rather than guessing:
 * - header `{ alg, typ: 'JWT', ...options.header }`, payload plus `iat` (now, in seconds) unless
 *   the payload has one, both as base64url JSON, signed over `header.payload`;
 * - RS256 is RSASSA-PKCS1-v1_5 with SHA-256; PS256 is RSASSA-PSS with SHA-256, MGF1 SHA-256 and a
 *   32-byte salt (jwa's `RSA_PSS_SALTLEN_DIGEST`);
 * - the key: a PEM/DER private key or a `KeyObject`, RSA (or, for PS256, RSA-PSS restricted to
 *   SHA-256), at least 2048 bits; encrypted PEM, EC keys and secrets are refused, as
 *   jsonwebtoken refuses them for these algorithms.
 */
import { constants, createPrivateKey, KeyObject, sign as signBytes } from 'node:crypto';

/** The options MSAL passes (`header` only); anything else is refused. */
export interface JwtSignOptions {
  header?: Record<string, unknown>;
}

const ALGORITHMS = new Set(['RS256', 'PS256']);

/** Signs `payload` as a compact JWS, exactly as `jsonwebtoken.sign(payload, key, { header })`. */
export function sign(
  payload: Record<string, unknown>,
  privateKey: string | Buffer | KeyObject,
  options: JwtSignOptions = {},
  ...rest: unknown[]
): string {
  const unsupported = Object.keys(options).filter((key) => key !== 'header');
  if (rest.length > 0 || unsupported.length > 0 || typeof payload !== 'object' || !payload) {
    // A new MSAL release calling more of jsonwebtoken must fail the tests, not sign differently.
    throw new Error(
      `jsonwebtoken stand-in: only sign(payload, privateKey, { header }) is supported${unsupported.length ? ` (got ${unsupported.join(', ')})` : ''}`,
    );
  }
  const header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT', ...options.header };
  const alg = String(header.alg);
  if (!ALGORITHMS.has(alg)) {
    throw new Error(`jsonwebtoken stand-in: "alg" ${alg} is not supported (RS256, PS256)`);
  }
  const key = privateKeyFor(alg, privateKey);
  const claims = { ...payload };
  claims.iat = payload.iat || Math.floor(Date.now() / 1000);
  const input = `${base64url(header)}.${base64url(claims)}`;
  const signature = signBytes(
    'sha256',
    Buffer.from(input),
    alg === 'PS256'
      ? {
          key,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
        }
      : key,
  );
  return `${input}.${signature.toString('base64url')}`;
}

/**
 * The package's shape as MSAL imports it (`import jwt from 'jsonwebtoken'; jwt.sign(...)`): a
 * CommonJS module seen through a default import. The one default export in the project, because
 * the module it replaces has no named ones.
 */
export default { sign };

function base64url(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function privateKeyFor(alg: string, material: string | Buffer | KeyObject): KeyObject {
  let key: KeyObject;
  try {
    key = material instanceof KeyObject ? material : createPrivateKey(material);
  } catch {
    // Never the key text in the message: this ends up in logs.
    throw new Error(
      `jsonwebtoken stand-in: the private key is not an unencrypted PEM or DER private key (${alg})`,
    );
  }
  if (key.type !== 'private') {
    throw new Error(`jsonwebtoken stand-in: ${alg} needs an asymmetric private key`);
  }
  const details = key.asymmetricKeyDetails ?? {};
  const rsaPss = key.asymmetricKeyType === 'rsa-pss';
  if (key.asymmetricKeyType !== 'rsa' && !(rsaPss && alg === 'PS256')) {
    throw new Error(
      `jsonwebtoken stand-in: a ${key.asymmetricKeyType} key cannot sign ${alg} (RSA${alg === 'PS256' ? ' or RSA-PSS' : ''} only)`,
    );
  }
  // As jsonwebtoken: an RSA-PSS key must be restricted to SHA-256 (and MGF1 SHA-256, salt ≤ 32).
  if (
    rsaPss &&
    (details.hashAlgorithm !== 'sha256' ||
      details.mgf1HashAlgorithm !== 'sha256' ||
      (details.saltLength !== undefined && details.saltLength > 32))
  ) {
    throw new Error(
      'jsonwebtoken stand-in: the RSA-PSS key parameters do not allow PS256 (SHA-256, salt ≤ 32)',
    );
  }
  if ((details.modulusLength ?? 0) < 2048) {
    throw new Error(`jsonwebtoken stand-in: ${alg} needs a key of at least 2048 bits`);
  }
  return key;
}
