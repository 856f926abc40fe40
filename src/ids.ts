/**
 * Ids are `<prefix>_<time><random>`: 10 Crockford base32 characters of milliseconds since the
 * epoch, then 16 random ones. Fixed length and time first, so string order is creation order:
 * lists sort by id and cursors are "the last id seen", which stays stable under inserts.
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export type IdPrefix = 'agt' | 'num' | 'call' | 'doc' | 'cmp' | 'cnt' | 'act' | 'key' | 'tool' | 'evt';

let lastMs = 0;
let lastRandom: number[] = [];

export function newId(prefix: IdPrefix, nowMs: number = Date.now()): string {
  let random: number[];
  if (nowMs <= lastMs) {
    // Same millisecond (or a clock step back): increment the previous random part so ids
    // created in a burst still sort in creation order.
    nowMs = lastMs;
    random = increment(lastRandom);
  } else {
    const bytes = randomBytes(16);
    random = Array.from(bytes, (b) => b & 31);
  }
  lastMs = nowMs;
  lastRandom = random;
  let time = '';
  let t = nowMs;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return `${prefix}_${time}${random.map((d) => ALPHABET[d]).join('')}`;
}

function increment(digits: number[]): number[] {
  const out = digits.slice();
  for (let i = out.length - 1; i >= 0; i--) {
    if (out[i] < 31) {
      out[i]++;
      return out;
    }
    out[i] = 0;
  }
  return out;
}

const ID_RE = /^(agt|num|call|doc|cmp|cnt|act|key|tool|evt)_[0-9A-HJKMNP-TV-Z]{26}$/;

export function isId(value: string, prefix?: IdPrefix): boolean {
  return ID_RE.test(value) && (prefix === undefined || value.startsWith(`${prefix}_`));
}
