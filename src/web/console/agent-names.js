// Agent names for the pages that show agent ids (calls, numbers, campaigns). Read once per page
// visit; a key without agents:read sees the ids instead.
import { listAll, session } from './api.js';

export async function loadAgents() {
  if (!session.can('agents:read')) return new Map();
  try {
    return new Map((await listAll('/v1/agents')).map((a) => [a.id, a]));
  } catch {
    return new Map();
  }
}

export function agentName(agents, id) {
  const a = agents.get(id);
  return a ? a.name : id;
}
