/**
 * E.164 phone numbers, the one definition every route, tool and campaign import checks against.
 * E.164 caps a number at 15 digits (country code included) and sets no minimum, but the
 * shortest numbers in service are 7 digits with their country code (e.g. Niue, +683 and four
 * digits; St Helena, +290 and four), so anything shorter ("+10") is a typo, not a number.
 */
export const E164_PATTERN = '^\\+[1-9][0-9]{6,14}$';
export const E164_RE = new RegExp(E164_PATTERN);
/** For messages and OpenAPI descriptions. */
export const E164_HINT = 'E.164: + then 7 to 15 digits, country code first, e.g. +14155550100';

export function isE164(s: string): boolean {
  return E164_RE.test(s);
}
