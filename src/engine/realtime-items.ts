/**
 * Bookkeeping for the realtime bridge's conversation: agent items as they stream (audio produced,
 * transcript so far, whether they were heard), cutting an interrupted item's text to what was
 * heard, and the history replayed into a new provider session after a drop.
 */
import type { RealtimeItem } from '../providers/realtime/index.js';

export interface AgentItem {
  itemId: string;
  responseId: string;
  /** Audio received from the provider for this item, ms. */
  producedMs: number;
  text: string;
  /** Host clock ms of the first audio delta. */
  startMs: number;
  audioDone: boolean;
  transcriptDone: boolean;
  /** Playback reported the utterance fully played. */
  played: boolean;
  persisted: boolean;
  /** The text kept for the transcript and history once persisted: what the caller heard. */
  heardText?: string;
}

export function newAgentItem(itemId: string, responseId: string, nowMs: number): AgentItem {
  return {
    itemId, responseId, producedMs: 0, text: '', startMs: nowMs,
    audioDone: false, transcriptDone: false, played: false, persisted: false,
  };
}

/**
 * The part of `text` the caller heard, assuming speech is spread evenly over the audio: the
 * first heard/produced of its characters, rounded to a word boundary (a word counts once half
 * of it was heard).
 */
export function cutToHeard(text: string, heardMs: number, producedMs: number): string {
  if (producedMs <= 0 || heardMs <= 0) return '';
  if (heardMs >= producedMs) return text.trim();
  const n = Math.round((text.length * heardMs) / producedMs);
  const words = [...text.matchAll(/\S+/g)];
  let end = 0;
  for (const w of words) {
    const start = w.index ?? 0;
    const middle = start + w[0].length / 2;
    if (middle > n) break;
    end = start + w[0].length;
  }
  return text.slice(0, end).trim();
}

interface HistoryEntry {
  role: 'user' | 'assistant';
  text: string;
}

/** Items replayed verbatim after a reconnect; older ones are condensed into one summary item. */
export const MAX_REPLAY_ITEMS = 30;
/** Characters of condensed earlier conversation: bounded so a long call restores quickly. */
const MAX_SUMMARY_CHARS = 2000;
const SUMMARY_CHARS_PER_ITEM = 120;

export class ConversationHistory {
  private entries: HistoryEntry[] = [];
  /** User turns by provider item id: placed when speech starts, text filled when transcribed. */
  private pendingUser = new Map<string, HistoryEntry>();
  /**
   * Agent items by provider item id: placed when their audio starts, text filled when they are
   * persisted, so an answer cut by the caller stays before the caller's interruption.
   */
  private pendingAgent = new Map<string, HistoryEntry>();

  userTurnStarted(itemId: string): void {
    if (this.pendingUser.has(itemId)) return;
    const entry: HistoryEntry = { role: 'user', text: '' };
    this.pendingUser.set(itemId, entry);
    this.entries.push(entry);
  }

  userTranscribed(itemId: string, text: string): void {
    const entry = this.pendingUser.get(itemId);
    if (entry) {
      entry.text = text;
      this.pendingUser.delete(itemId);
    } else this.entries.push({ role: 'user', text });
  }

  agentStarted(itemId: string): void {
    if (this.pendingAgent.has(itemId)) return;
    const entry: HistoryEntry = { role: 'assistant', text: '' };
    this.pendingAgent.set(itemId, entry);
    this.entries.push(entry);
  }

  agentSaid(itemId: string, text: string): void {
    const entry = this.pendingAgent.get(itemId);
    if (entry) {
      entry.text = text;
      this.pendingAgent.delete(itemId);
    } else this.entries.push({ role: 'assistant', text });
  }

  get length(): number {
    return this.entries.filter((e) => e.text.trim() !== '').length;
  }

  /** The conversation as items for a fresh session: a summary of old turns, then recent ones. */
  replayItems(): RealtimeItem[] {
    const spoken = this.entries.filter((e) => e.text.trim() !== '');
    const recent = spoken.slice(-MAX_REPLAY_ITEMS);
    const older = spoken.slice(0, spoken.length - recent.length);
    const items: RealtimeItem[] = [];
    if (older.length > 0) {
      let summary = older
        .map((e) => `${e.role === 'user' ? 'Caller' : 'You'}: ${e.text.slice(0, SUMMARY_CHARS_PER_ITEM)}`)
        .join('\n');
      if (summary.length > MAX_SUMMARY_CHARS) summary = `…${summary.slice(-MAX_SUMMARY_CHARS)}`;
      items.push({ type: 'message', role: 'system', text: `Earlier in this call (condensed):\n${summary}` });
    }
    for (const e of recent) items.push({ type: 'message', role: e.role, text: e.text });
    return items;
  }
}
