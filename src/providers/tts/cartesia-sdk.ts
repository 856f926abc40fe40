/**
 * The Cartesia SDK (`@cartesia/cartesia-js` 4.2.0), loaded from its CommonJS build: the ESM
 * build loads `ws` with `require`, which does not exist in ESM on Node 20 (SDK-NOTES). Types
 * come from the package as usual.
 */
import { createRequire } from 'node:module';
import type { Cartesia as CartesiaType } from '@cartesia/cartesia-js';
import type { TTSWS as TtsWsType, TTSWSContext as TtsWsContextType } from '@cartesia/cartesia-js/resources/tts/ws';

const requireCjs = createRequire(import.meta.url);

export const { Cartesia } = requireCjs('@cartesia/cartesia-js') as { Cartesia: typeof CartesiaType };
export const { TTSWS, TTSWSContext } = requireCjs('@cartesia/cartesia-js/resources/tts/ws') as {
  TTSWS: typeof TtsWsType;
  TTSWSContext: typeof TtsWsContextType;
};
export type { CartesiaType, TtsWsType, TtsWsContextType };
