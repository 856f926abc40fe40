/** A manual clock for pacing tests: `advance(ms)` fires the interval timer every `step` ms. */
import type { Clock } from '../../src/session/index.js';

export class FakeClock implements Clock {
  t = 1000;
  private timers = new Map<number, { fn: () => void; ms: number; next: number }>();
  private nextId = 1;

  now(): number {
    return this.t;
  }
  setInterval(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { fn, ms, next: this.t + ms });
    return id;
  }
  clearInterval(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  get timerCount(): number {
    return this.timers.size;
  }
  /** Moves time forward, firing due timers in order (1 ms resolution). */
  advance(ms: number, onStep?: (now: number) => void): void {
    const end = this.t + ms;
    while (this.t < end) {
      this.t += 1;
      onStep?.(this.t);
      for (const timer of [...this.timers.values()]) {
        if (timer.next <= this.t) {
          timer.next += timer.ms;
          timer.fn();
        }
      }
    }
  }
}
