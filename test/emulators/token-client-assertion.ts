import { createHash, X509Certificate } from 'node:crypto';
import { decodeProtectedHeader, importX509, jwtVerify } from 'jose';
import { invalidClientAssertion, type TokenHttpReply } from './token-replies.ts';

/**
 * Verifies a certificate credential (RFC 7523 client assertion) as Entra does: signed by the key of
 * the registered certificate (RS256 with `x5t`, or PS256 with `x5t#S256` as MSAL sends), issuer and
 * subject = client id, audience = the token URL, not expired. Returns the refusal, or undefined.
 */
export async function verifyClientAssertion(
  assertion: string,
  client: { certificatePem?: string },
  clientId: string,
  tokenUrl: string,
): Promise<TokenHttpReply | undefined> {
  if (!client.certificatePem) return invalidClientAssertion('no certificate registered');
  try {
    const header = decodeProtectedHeader(assertion);
    const alg = header.alg;
    if (alg !== 'RS256' && alg !== 'PS256') return invalidClientAssertion(`alg ${alg}`);
    const der = new X509Certificate(client.certificatePem).raw;
    const sha256 = createHash('sha256').update(der).digest('base64url');
    const sha1 = createHash('sha1').update(der).digest('base64url');
    if (header['x5t#S256'] !== sha256 && header.x5t !== sha1) {
      return invalidClientAssertion('unknown certificate thumbprint');
    }
    const key = await importX509(client.certificatePem, alg);
    await jwtVerify(assertion, key, {
      algorithms: [alg],
      issuer: clientId,
      subject: clientId,
      audience: tokenUrl,
      // Entra tolerates clock skew; MSAL also rounds `nbf` up to the next second.
      clockTolerance: 300,
    });
    return undefined;
  } catch (err) {
    return invalidClientAssertion(err instanceof Error ? err.message : String(err));
  }
}
