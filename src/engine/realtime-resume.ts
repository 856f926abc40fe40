/**
 * After a realtime session drops mid-response, the new session is told where the cut reply
 * stopped (issue 15): a system item naming what the caller heard, then a plain `response.create`.
 * Not response-level `instructions`: "if these are set, they will override the Session's
 * configuration for this Response only" (openai-node 6.30, resources/realtime/realtime.d.ts,
 * ResponseCreateEvent), i.e. the agent's own prompt would be gone for the continuation.
 * With nothing heard, it answers the caller's last turn afresh.
 */
import type { RealtimeItem } from '../providers/realtime/index.js';
import type { AgentItem } from './realtime-items.js';
import type { EngineHost } from './types.js';

/**
 * Wait beyond the cut reply's remaining audio for its final mark: marks trail the audio by the
 * playback lead and a round trip. Bounds the resume when marks never come.
 */
export const RESUME_PLAYOUT_MARGIN_MS = 1_500;

export interface CutResponse {
  /** The agent items of the cut response (possibly none: it had produced no audio yet). */
  items: AgentItem[];
}

export function resumeNote(heard: string): { item: RealtimeItem; note: string } {
  if (heard === '') {
    return {
      item: { type: 'message', role: 'system', text: 'The connection dropped before your reply reached the caller. Answer the caller\'s last message now.' },
      note: 'realtime session dropped mid-response before the caller heard any of it; answered again on the new session',
    };
  }
  return {
    item: {
      type: 'message',
      role: 'system',
      text: `The connection dropped while you were speaking. The caller heard your last reply only up to: "${heard.replace(/"/g, "'")}". Continue that reply from exactly there, without repeating what they already heard.`,
    },
    note: `realtime session dropped mid-response; resumed on the new session after the ${heard.split(/\s+/).length} words the caller heard`,
  };
}

/** Waits for a dropped session's agent items to play out (their final marks), bounded. */
export class PlayoutWait {
  private readonly checks = new Set<() => void>();

  constructor(private readonly host: EngineHost) {}

  /** Resolves once every item is persisted (played out or cut), or after its remaining audio + margin. */
  wait(items: AgentItem[]): Promise<void> {
    const waiting = (): boolean => items.some((i) => !i.persisted);
    if (!waiting()) return Promise.resolve();
    const leftMs = Math.max(...items.map((i) => i.producedMs - this.host.playback.position(i.itemId).heardMs));
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.checks.delete(check);
        this.host.signal.removeEventListener('abort', done);
        resolve();
      };
      const check = (): void => {
        if (!waiting()) done();
      };
      const timer = setTimeout(done, Math.max(0, leftMs) + RESUME_PLAYOUT_MARGIN_MS);
      this.checks.add(check);
      this.host.signal.addEventListener('abort', done, { once: true });
    });
  }

  /** An utterance finished playing (after the engine persisted it). */
  onUtteranceDone(): void {
    for (const check of this.checks) check();
  }
}
