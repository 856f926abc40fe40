/**
 * The realtime API allows one live response per conversation: a `response.create` while one is
 * live fails with `conversation_already_has_active_response`. This slot tracks the live one, a
 * create on its way, and a create wanted once the slot frees (tool outputs, DTMF, a lost race).
 */
export interface ResponseRequest {
  instructions?: string;
}

export class ResponseSlot {
  liveId: string | null = null;
  /** A `response.create` was sent and no `response.created` has answered it yet. */
  private requested = false;
  private wanted: ResponseRequest | null = null;
  private last: ResponseRequest = {};

  constructor(private readonly send: (request: ResponseRequest) => boolean) {}

  /** Sends now: for the greeting, which must not wait behind anything. */
  create(request: ResponseRequest = {}): void {
    if (!this.send(request)) return;
    this.requested = true;
    this.last = request;
  }

  /** Sends now if the slot is free, else once it is. */
  request(): void {
    if (this.liveId || this.requested) this.wanted ??= {};
    else this.create();
  }

  onCreated(responseId: string): void {
    this.liveId = responseId;
    this.requested = false;
  }

  onDone(responseId: string): void {
    if (this.liveId === responseId) this.liveId = null;
  }

  /** Our create lost to a response the server started itself: repeat it once that one is done. */
  onRaceLost(): void {
    this.requested = false;
    this.wanted = this.last;
  }

  /** Sends a wanted create if the slot is free now. */
  flush(): void {
    const wanted = this.wanted;
    if (!wanted || this.liveId || this.requested) return;
    this.wanted = null;
    this.create(wanted);
  }

  /** The provider session was replaced: nothing is live or on its way any more. */
  reset(): void {
    this.liveId = null;
    this.requested = false;
  }

  /** A `response.create` is on its way (sent, not yet answered by `response.created`). */
  get pending(): boolean {
    return this.requested;
  }

  /** Nothing live, on its way or wanted. */
  get idle(): boolean {
    return !this.liveId && !this.requested && this.wanted === null;
  }
}
