/**
 * The human approval queue. `start`/`pause`/`stop` only ever create an action that waits for a
 * person; the campaign's status changes in exactly one place, `decide()` after an approval, so
 * there is no route, tool or dialer path by which an agent's request takes effect on its own.
 *
 * Who may decide: a key with `approvals:write` whose owner is not the owner that requested the
 * action. The rule is about owners, not keys, and has no admin exception: an autonomous agent
 * holding an admin key still cannot approve its own request.
 */
import type { Store, Campaign, CampaignAction, ActionKind, CampaignStatus } from '../store/types.js';
import { VoxgateError, notFound } from '../errors.js';
import { newId } from '../ids.js';

/** The status each action moves a campaign to, and the statuses it may start from. */
const TRANSITIONS: Record<ActionKind, { to: CampaignStatus; from: readonly CampaignStatus[] }> = {
  // A stopped or completed campaign may be started again (new contacts, a second round):
  // that is a human's decision like any other start.
  start: { to: 'running', from: ['draft', 'paused', 'stopped', 'completed'] },
  pause: { to: 'paused', from: ['running'] },
  stop: { to: 'stopped', from: ['draft', 'running', 'paused'] },
};

/** Null when `action` applies to a campaign in `status`, else why not. */
export function transitionProblem(action: ActionKind, status: CampaignStatus): string | null {
  const t = TRANSITIONS[action];
  if (t.from.includes(status)) return null;
  return `cannot ${action} a campaign that is ${status}`;
}

export interface Requester {
  owner: string;
  keyId: string;
}

/** Records the request; nothing else changes until a human approves it. */
export async function requestAction(store: Store, campaign: Campaign, action: ActionKind, by: Requester, now: Date): Promise<CampaignAction> {
  const problem = transitionProblem(action, campaign.status);
  if (problem) throw new VoxgateError('conflict', problem, [{ field: 'status', message: `campaign is ${campaign.status}` }]);
  const record: CampaignAction = {
    id: newId('act', now.getTime()),
    campaignId: campaign.id,
    owner: campaign.owner,
    action,
    status: 'awaiting_approval',
    requestedBy: by.owner,
    requestedByKeyId: by.keyId,
    decidedBy: null,
    decidedByKeyId: null,
    reason: null,
    createdAt: now.toISOString(),
    decidedAt: null,
  };
  await store.createAction(record);
  return record;
}

export interface Decision {
  approve: boolean;
  owner: string;
  keyId: string;
  reason: string | null;
}

/**
 * Decides an action (compare-and-set in the store, so two reviewers racing get one winner and
 * one 409) and, when approved, executes it. An approved action whose campaign can no longer
 * make the move any more (e.g. it was stopped meanwhile) ends `failed`.
 */
export async function decide(store: Store, actionId: string, d: Decision, now: Date): Promise<CampaignAction> {
  const action = await store.getAction(actionId);
  if (!action) throw notFound('action', actionId);
  if (action.requestedBy === d.owner) {
    throw new VoxgateError(
      'self_approval_forbidden',
      `owner ${d.owner} requested this action and may not decide it; another owner's approvals key must`,
    );
  }
  if (action.status !== 'awaiting_approval') throw alreadyDecided(action);
  const decided = await store.decideAction(actionId, {
    status: d.approve ? 'approved' : 'rejected',
    decidedBy: d.owner,
    decidedByKeyId: d.keyId,
    reason: d.reason,
    decidedAt: now.toISOString(),
  });
  if (!decided) {
    const current = await store.getAction(actionId);
    throw alreadyDecided(current ?? action);
  }
  if (!d.approve) return decided;
  return execute(store, decided);
}

async function execute(store: Store, action: CampaignAction): Promise<CampaignAction> {
  const campaign = await store.getCampaign(action.campaignId);
  const problem = campaign ? transitionProblem(action.action, campaign.status) : 'the campaign no longer exists';
  if (problem) {
    // The decision stays recorded as made; the action's status says it could not take effect.
    await store.setActionStatus(action.id, 'failed');
    return { ...action, status: 'failed' };
  }
  await store.setCampaignStatus(action.campaignId, TRANSITIONS[action.action].to);
  await store.setActionStatus(action.id, 'executed');
  return { ...action, status: 'executed' };
}

function alreadyDecided(action: CampaignAction): VoxgateError {
  return new VoxgateError('conflict', `action ${action.id} was already decided (${action.status})`, [
    { field: 'status', message: action.status },
  ]);
}
