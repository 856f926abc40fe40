/** Media core: G.711 μ-law, PCM16 helpers, resampling and WAV files. */
export {
  ULAW_DECODE_TABLE,
  ULAW_SILENCE,
  ulawDecode,
  ulawDecodeSample,
  ulawEncode,
  ulawEncodeSample,
} from './g711.js';
export { SILENCE_DBFS, interleave, mixToStereo, pcm16FromBytes, pcm16ToBuffer, rmsDbfs } from './pcm.js';
export {
  WAVE_FORMAT_MULAW,
  WAVE_FORMAT_PCM,
  WAV_FLUSH_MS,
  WAV_HEADER_BYTES,
  WavFileWriter,
  parseWav,
  repairWav,
  wavHeader,
} from './wav.js';
export { Resampler, resample } from './resample.js';
export { FrameBatch, MAX_BATCH_FRAMES } from './frame-batch.js';
export type { ResamplerOptions } from './resample.js';
export type { WavFormat, WavHeaderOptions, WavInfo, WavRepairResult } from './wav.js';
