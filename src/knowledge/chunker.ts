/**
 * Splits a document into passages for ranked retrieval. ~500 characters keeps a passage small
 * enough that several fit in a prompt next to the conversation, and large enough to carry a
 * whole fact. Passages end on paragraph or sentence boundaries, and each repeats the tail of
 * the previous one (OVERLAP_CHARS) so a fact straddling a boundary is still found whole.
 */
export const TARGET_CHARS = 500;
export const OVERLAP_CHARS = 100;

/** Sentences, paragraph breaks kept as their own boundaries; whitespace normalised. */
function sentences(text: string): string[] {
  const out: string[] = [];
  for (const para of text.split(/\n\s*\n/)) {
    const flat = para.replace(/\s+/g, ' ').trim();
    if (!flat) continue;
    // A sentence ends at . ! ? (optionally followed by quotes/brackets) before whitespace.
    for (const s of flat.split(/(?<=[.!?]["')\]]?)\s+/)) {
      if (s.length <= TARGET_CHARS) {
        if (s) out.push(s);
        continue;
      }
      // An over-long "sentence" (a list, a table row): cut on word boundaries.
      let rest = s;
      while (rest.length > TARGET_CHARS) {
        let cut = rest.lastIndexOf(' ', TARGET_CHARS);
        if (cut < TARGET_CHARS / 2) cut = TARGET_CHARS;
        out.push(rest.slice(0, cut).trim());
        rest = rest.slice(cut).trim();
      }
      if (rest) out.push(rest);
    }
  }
  return out;
}

export function chunkText(text: string): string[] {
  const parts = sentences(text);
  const chunks: string[] = [];
  let current: string[] = [];
  let length = 0;
  const flush = () => {
    if (current.length === 0) return;
    chunks.push(current.join(' '));
    // Carry the last sentences (up to OVERLAP_CHARS) into the next passage.
    const carry: string[] = [];
    let carried = 0;
    for (let i = current.length - 1; i >= 0 && carried + current[i]!.length <= OVERLAP_CHARS; i--) {
      carry.unshift(current[i]!);
      carried += current[i]!.length + 1;
    }
    current = carry;
    length = carried;
  };
  let fresh = 0; // sentences added since the last flush (a chunk of only carry-over is not new)
  for (const s of parts) {
    if (length > 0 && length + 1 + s.length > TARGET_CHARS && fresh > 0) {
      flush();
      fresh = 0;
      // If the carry plus this sentence still does not fit, drop the carry.
      if (length + 1 + s.length > TARGET_CHARS) {
        current = [];
        length = 0;
      }
    }
    current.push(s);
    length += (length > 0 ? 1 : 0) + s.length;
    fresh++;
  }
  if (fresh > 0) chunks.push(current.join(' '));
  return chunks;
}
