import { describe, expect, it } from 'vitest';
import { FrameBacklog } from '../../src/engine/frame-backlog.js';

describe('FrameBacklog', () => {
  it('keeps copies in arrival order and hands them over once', () => {
    const b = new FrameBacklog(10);
    const reused = Buffer.alloc(4);
    for (let n = 1; n <= 3; n++) {
      reused.fill(n);
      b.push(reused);
    }
    const out: number[] = [];
    b.drain((f) => out.push(f[0]!));
    expect(out).toEqual([1, 2, 3]);
    // Drained: the consumer takes frames itself from now on.
    b.push(Buffer.alloc(4, 9));
    expect(b.size).toBe(0);
  });

  it('drops the oldest beyond its bound and counts them', () => {
    const b = new FrameBacklog(2);
    for (let n = 1; n <= 5; n++) b.push(Buffer.alloc(1, n));
    expect(b.dropped).toBe(3);
    const out: number[] = [];
    b.drain((f) => out.push(f[0]!));
    expect(out).toEqual([4, 5]);
  });

  it('forgets everything when cleared', () => {
    const b = new FrameBacklog(4);
    b.push(Buffer.alloc(1));
    b.clear();
    const out: Buffer[] = [];
    b.drain((f) => out.push(f));
    expect(out).toEqual([]);
  });
});
