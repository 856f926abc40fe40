import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { TwilioMediaSocket } from '../../src/transport/twilio/media-socket.js';
import { createMetrics } from '../../src/metrics/index.js';
import type { TransportEvent } from '../../src/transport/types.js';

const SID = 'MZ' + '1'.repeat(32);

/** Just enough of a ws socket: inbound messages are emitted, outbound ones recorded. */
class FakeWs extends EventEmitter {
  sent: string[] = [];
  closedWith: [number, string] | null = null;
  bufferedAmount = 0;
  send(data: string): void {
    this.sent.push(data);
  }
  close(code: number, reason: string): void {
    this.closedWith = [code, reason];
    this.emit('close', code, Buffer.from(reason));
  }
  terminate(): void {}
  receive(msg: unknown): void {
    this.emit('message', Buffer.from(typeof msg === 'string' ? msg : JSON.stringify(msg)), false);
  }
}

const start = { event: 'start', sequenceNumber: '1', streamSid: SID, start: { accountSid: 'AC1', callSid: 'CA1', streamSid: SID, tracks: ['inbound'], customParameters: {} } };
const media = (n: number) => ({ event: 'media', sequenceNumber: String(n + 1), streamSid: SID, media: { track: 'inbound', chunk: String(n), timestamp: String(n * 20), payload: Buffer.alloc(160, n).toString('base64') } });
const mark = (name: string) => ({ event: 'mark', sequenceNumber: '99', streamSid: SID, mark: { name } });

function open(onStart: (s: TwilioMediaSocket) => Promise<void> = async () => {}) {
  const ws = new FakeWs();
  const socket = new TwilioMediaSocket(ws as unknown as WebSocket, { metrics: createMetrics(), onStart: (_s, sock) => onStart(sock), startTimeoutMs: 60_000 });
  return { ws, socket };
}

describe('Twilio media socket', () => {
  it('delivers events that arrived while the session was attaching first, in order', async () => {
    let release!: () => void;
    const { ws, socket } = open(() => new Promise<void>((r) => (release = r)));
    ws.receive(start);
    ws.receive(media(1));
    ws.receive(media(2));
    const events: TransportEvent[] = [];
    socket.onEvent((e) => events.push(e));
    ws.receive(media(3));
    release();
    await new Promise((r) => setTimeout(r, 0));
    ws.receive(media(4));
    expect(events.map((e) => (e.type === 'audio' ? e.timestampMs : e.type))).toEqual([20, 40, 60, 80]);
  });

  it('reports marks pending at a clear as cleared, later ones as played', async () => {
    const { ws, socket } = open();
    ws.receive(start);
    await new Promise((r) => setTimeout(r, 0));
    const events: TransportEvent[] = [];
    socket.onEvent((e) => events.push(e));
    socket.sendAudio(Buffer.alloc(160, 0xff));
    socket.mark('a');
    socket.mark('b');
    ws.receive(mark('a'));
    socket.clear();
    socket.mark('c');
    ws.receive(mark('b'));
    ws.receive(mark('c'));
    expect(events).toEqual([
      { type: 'mark', name: 'a', cleared: false },
      { type: 'mark', name: 'b', cleared: true },
      { type: 'mark', name: 'c', cleared: false },
    ]);
    expect(ws.sent.map((m) => JSON.parse(m).event)).toEqual(['media', 'mark', 'mark', 'clear', 'mark']);
  });

  it('corks the TCP socket on the first send of a tick and uncorks once the tick is done', async () => {
    const log: string[] = [];
    const ws = new FakeWs();
    const origSend = ws.send.bind(ws);
    ws.send = (data: string) => {
      log.push(`send ${JSON.parse(data).event}`);
      origSend(data);
    };
    const tcp = { cork: () => log.push('cork'), uncork: () => log.push('uncork') };
    const socket = new TwilioMediaSocket(ws as unknown as WebSocket, { metrics: createMetrics(), onStart: async () => {}, startTimeoutMs: 60_000, tcp });
    ws.receive(start);
    await new Promise((r) => setTimeout(r, 0));
    socket.sendAudio(Buffer.alloc(800, 0xff));
    socket.mark('a');
    socket.sendAudio(Buffer.alloc(800, 0xff));
    socket.mark('b');
    expect(log).toEqual(['cork', 'send media', 'send mark', 'send media', 'send mark']);
    await new Promise((r) => process.nextTick(r));
    expect(log.at(-1)).toBe('uncork');
    log.length = 0;
    socket.clear();
    await new Promise((r) => setTimeout(r, 0));
    // A clear is a lone message: nothing to coalesce, so it is written at once.
    expect(log).toEqual(['send clear']);
  });

  it('turns stop into one hangup and closes the socket', async () => {
    const { ws, socket } = open();
    ws.receive(start);
    await new Promise((r) => setTimeout(r, 0));
    const events: TransportEvent[] = [];
    socket.onEvent((e) => events.push(e));
    ws.receive({ event: 'stop', sequenceNumber: '5', streamSid: SID, stop: { accountSid: 'AC1', callSid: 'CA1' } });
    expect(events).toEqual([{ type: 'hangup', reason: 'stop' }]);
    expect(ws.closedWith).toEqual([1000, 'stream stopped']);
  });

  it('sends nothing before start and nothing after close', async () => {
    const { ws, socket } = open();
    socket.sendAudio(Buffer.alloc(160));
    socket.mark('x');
    ws.receive(start);
    await new Promise((r) => setTimeout(r, 0));
    socket.close('agent_hangup');
    socket.sendAudio(Buffer.alloc(160));
    expect(ws.sent).toEqual([]);
    expect(ws.closedWith).toEqual([1000, 'agent_hangup']);
  });
});
