import { createHmac } from 'node:crypto';

/**
 * Signs an HS256 JWT synchronously: development tokens (`npm run token`, the demo page) and tests. Verification
 * goes through `JwtVerifier` (jose).
 */
export function signHs256Jwt(claims: Record<string, unknown>, secret: string): string {
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}
