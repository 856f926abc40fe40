// Each turn's latency as one horizontal bar, split into where the time went. The parts come
// from the call's `latency.recent` (src/session/latency.ts): endpointing (caller stopped →
// turn committed), STT (the final transcript's lag past the commit, when it came later), LLM
// (first token), TTS (first audio byte), first audio (→ sent to the caller; for realtime
// agents, the provider's first audio delta), and whatever is left of voice-to-voice.
// The parts are each measured from their own start, so they add up to voice-to-voice only when
// they ran one after another. A speculative reply (the LLM started on a partial transcript,
// before the caller stopped) makes them add up to more: the bar then shows where voice-to-voice
// ended with a marker, and says the parts overlapped, rather than stretch or squeeze a part.

import { clear, h } from './dom.js';

export const PARTS = [
  { key: 'endpointing', label: 'Endpointing', color: '#94a3b8' },
  { key: 'stt', label: 'STT', color: '#6366f1' },
  { key: 'llm', label: 'LLM', color: '#f59e0b' },
  { key: 'tts', label: 'TTS', color: '#ec4899' },
  { key: 'audio', label: 'First audio', color: '#10b981' },
  { key: 'other', label: 'Other', color: '#e2e8f0' },
];

/** One turn's parts in ms; they add up to voiceToVoiceMs. */
export function turnParts(t) {
  const total = t.voiceToVoiceMs || 0;
  const endpointing = t.endpointingMs ?? 0;
  const stt = Math.max(0, (t.sttFinalMs ?? 0) - endpointing);
  const llm = t.llmFirstTokenMs ?? 0;
  const tts = t.ttsFirstByteMs ?? 0;
  const audio = (t.firstAudioDeltaMs ?? 0) + (t.firstAudioSentMs ?? 0);
  const known = endpointing + stt + llm + tts + audio;
  return { endpointing, stt, llm, tts, audio, other: Math.max(0, total - known), total, span: Math.max(total, known), overlap: known > total + 1 };
}

export function renderLatency(container, latency) {
  clear(container);
  const turns = (latency && latency.recent) || [];
  if (turns.length === 0) {
    container.append(h('p', { class: 'empty' }, 'No turns measured yet: a turn is timed from the caller’s last word to the agent’s first audio.'));
    return;
  }
  const max = Math.max(...turns.map((t) => turnParts(t).span), 1);
  const first = Math.max(1, (latency.turns || turns.length) - turns.length + 1);
  container.append(
    h('p', { class: 'muted small' }, `p50 ${latency.p50Ms ?? '—'} ms · p95 ${latency.p95Ms ?? '—'} ms over ${latency.turns} turn${latency.turns === 1 ? '' : 's'}`),
    h('ol', { class: 'latency-bars' },
      ...turns.map((t, i) => {
        const p = turnParts(t);
        const parts = PARTS.filter((x) => p[x.key] > 0).map((x) => `${x.label} ${Math.round(p[x.key])} ms`).join(', ');
        const title = `voice-to-voice ${Math.round(p.total)} ms${parts ? ` — ${parts}` : ''}${p.overlap ? ' (parts overlapped: the reply started before the caller finished)' : ''}`;
        return h('li', { class: 'turn', dataset: { turn: String(first + i), totalMs: String(Math.round(p.total)), overlap: String(p.overlap) } },
          h('span', { class: 'turn-label' }, `Turn ${first + i}`),
          h('span', { class: 'bar-track' },
            h('span', { class: 'bar', style: `width:${((p.span / max) * 100).toFixed(1)}%`, title, role: 'img', 'aria-label': `Turn ${first + i}: ${title}` },
              ...PARTS.filter((x) => p[x.key] > 0).map((x) =>
                h('span', { class: 'seg', dataset: { part: x.key }, style: `flex-grow:${p[x.key]};background:${x.color}` }))),
            p.overlap ? h('span', { class: 'v2v-mark', title: `first audio reached the caller at ${Math.round(p.total)} ms`, style: `left:${((p.total / max) * 100).toFixed(1)}%` }) : null),
          h('span', { class: 'turn-total' }, `${Math.round(p.total)} ms`, p.overlap ? h('span', { class: 'overlap-note', 'aria-hidden': 'true' }, '*') : null));
      })),
    h('p', { class: 'legend' }, ...PARTS.map((x) => h('span', {}, h('i', { style: `background:${x.color}` }), x.label))),
    turns.some((t) => turnParts(t).overlap)
      ? h('p', { class: 'muted small' }, '* The parts overlapped: the reply was prepared while the caller was still speaking. The black line marks when the first audio reached the caller.')
      : null,
  );
}
