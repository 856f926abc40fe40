import type { Engine, EngineHost } from './types.js';
import { createPipelineEngine } from './pipeline.js';
import { createRealtimeEngine } from './realtime.js';
export type * from './types.js';
export { fillTemplate, mergeVariables, applyPronunciations } from './template.js';

/** Picks the engine for the agent's architecture. `text` agents never take calls. */
export function createEngine(host: EngineHost): Engine {
  switch (host.agent.architecture) {
    case 'pipeline':
      return createPipelineEngine(host);
    case 'realtime':
      return createRealtimeEngine(host);
    case 'text':
      throw new Error('text agents do not take calls');
    default: {
      const never: never = host.agent.architecture;
      throw new Error(`unknown architecture ${String(never)}`);
    }
  }
}
