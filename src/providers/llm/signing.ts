/**
 * Request signing for conversation servers (API.md, "Signing"): `x-voxgate-timestamp` (Unix
 * seconds) and `x-voxgate-signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>`.
 * The timestamp is inside the MAC so a captured request cannot be replayed later with a fresh
 * one; the server should refuse timestamps far from its clock (5 minutes is customary).
 */
import { createHmac } from 'node:crypto';

export const TIMESTAMP_HEADER = 'x-voxgate-timestamp';
export const SIGNATURE_HEADER = 'x-voxgate-signature';

export function signatureHeaders(secret: string, body: string, nowMs = Date.now()): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: `sha256=${mac}` };
}
