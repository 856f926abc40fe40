import { describe, expect, it } from 'vitest';
import { OutboundEncoder, parseInbound, MAX_INBOUND_MESSAGE_BYTES } from '../../src/transport/twilio/codec.js';

const SID = 'MZ00000000000000000000000000000000';
const SILENCE_160 = Buffer.alloc(160, 0xff);

// The examples of PROTOCOLS.md §1.3, verbatim.
const examples = {
  connected: '{"event":"connected","protocol":"Call","version":"1.0.0"}',
  start: `{"event":"start","sequenceNumber":"1","streamSid":"${SID}","start":{"accountSid":"AC00000000000000000000000000000000","streamSid":"${SID}","callSid":"CA00000000000000000000000000000000","tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},"customParameters":{"sessionToken":"tok_abc123","tenant":"acme"}}}`,
  media: `{"event":"media","sequenceNumber":"2","streamSid":"${SID}","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"//////////8="}}`,
  dtmf: `{"event":"dtmf","sequenceNumber":"57","streamSid":"${SID}","dtmf":{"track":"inbound_track","digit":"1"}}`,
  mark: `{"event":"mark","sequenceNumber":"58","streamSid":"${SID}","mark":{"name":"resp1:840"}}`,
  stop: `{"event":"stop","sequenceNumber":"99","streamSid":"${SID}","stop":{"accountSid":"AC00000000000000000000000000000000","callSid":"CA00000000000000000000000000000000"}}`,
};

function media(payload: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ event: 'media', sequenceNumber: '3', streamSid: SID, media: { track: 'inbound', chunk: '2', timestamp: '20', payload, ...extra } });
}

describe('Twilio media codec: inbound', () => {
  it('parses every Twilio → server message of the protocol reference', () => {
    expect(parseInbound(examples.connected)).toEqual({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    const start = parseInbound(examples.start);
    expect(start).toMatchObject({
      event: 'start',
      sequenceNumber: 1,
      streamSid: SID,
      start: { callSid: 'CA00000000000000000000000000000000', tracks: ['inbound'], customParameters: { sessionToken: 'tok_abc123', tenant: 'acme' } },
    });
    const m = parseInbound(Buffer.from(examples.media));
    expect(m).toMatchObject({ event: 'media', sequenceNumber: 2, track: 'inbound', chunk: 1, timestampMs: 5 });
    expect(m.event === 'media' && [...m.payload]).toEqual(new Array(8).fill(0xff));
    expect(parseInbound(examples.dtmf)).toEqual({ event: 'dtmf', sequenceNumber: 57, streamSid: SID, digit: '1' });
    expect(parseInbound(examples.mark)).toEqual({ event: 'mark', sequenceNumber: 58, streamSid: SID, name: 'resp1:840' });
    expect(parseInbound(examples.stop)).toMatchObject({ event: 'stop', sequenceNumber: 99, callSid: 'CA00000000000000000000000000000000' });
  });

  it('decodes a 20 ms frame of 216 base64 characters into 160 bytes', () => {
    const b64 = SILENCE_160.toString('base64');
    expect(b64).toHaveLength(216);
    const m = parseInbound(media(b64));
    expect(m.event === 'media' && m.payload.equals(SILENCE_160)).toBe(true);
  });

  it('names the reason for each kind of malformed message', () => {
    const cases: Array<[string | Buffer, string]> = [
      ['{not json', 'invalid_json'],
      ['[1,2]', 'invalid_json'],
      ['"media"', 'invalid_json'],
      ['{"foo":1}', 'missing_field'],
      ['{"event":"party","streamSid":"MZ1"}', 'unknown_event'],
      [`{"event":"media","sequenceNumber":"3","media":{"payload":"////","timestamp":"1"}}`, 'missing_field'],
      [`{"event":"media","streamSid":"${SID}","media":{"payload":"////","timestamp":"1"}}`, 'missing_field'],
      [`{"event":"media","sequenceNumber":"x","streamSid":"${SID}","media":{"payload":"////","timestamp":"1"}}`, 'bad_payload'],
      [`{"event":"media","sequenceNumber":"3","streamSid":"${SID}"}`, 'missing_field'],
      [media('////', { timestamp: undefined }), 'missing_field'],
      [media('////', { timestamp: '-4' }), 'bad_payload'],
      [media('not base64!!'), 'bad_payload'],
      [media('////!///'), 'bad_payload'],
      [media('///'), 'bad_payload'],
      [media(''), 'bad_payload'],
      [media(Buffer.alloc(9000, 1).toString('base64')), 'oversized'],
      ['{"event":"media","x":"' + 'a'.repeat(MAX_INBOUND_MESSAGE_BYTES) + '"}', 'oversized'],
      [`{"event":"mark","sequenceNumber":"4","streamSid":"${SID}","mark":{}}`, 'missing_field'],
      [`{"event":"mark","sequenceNumber":"4","streamSid":"${SID}","mark":{"name":""}}`, 'bad_payload'],
      [`{"event":"dtmf","sequenceNumber":"4","streamSid":"${SID}","dtmf":{"digit":"12"}}`, 'bad_payload'],
      [`{"event":"dtmf","sequenceNumber":"4","streamSid":"${SID}","dtmf":{}}`, 'missing_field'],
      [`{"event":"start","sequenceNumber":"1","streamSid":"${SID}","start":{"callSid":"CA1"}}`, 'missing_field'],
      [
        `{"event":"start","sequenceNumber":"1","streamSid":"${SID}","start":{"accountSid":"AC1","callSid":"CA1","mediaFormat":{"encoding":"audio/l16","sampleRate":16000,"channels":1}}}`,
        'bad_payload',
      ],
    ];
    for (const [raw, reason] of cases) {
      const r = parseInbound(raw);
      expect({ raw: String(raw).slice(0, 120), r: r.event === 'malformed' ? r.reason : r.event }).toEqual({ raw: String(raw).slice(0, 120), r: reason });
    }
  });
});

describe('Twilio media codec: outbound', () => {
  const enc = new OutboundEncoder(SID);

  it('serialises media with only a payload, as PROTOCOLS.md §1.4 shows', () => {
    const msg = JSON.parse(enc.media(SILENCE_160));
    expect(msg).toEqual({ event: 'media', streamSid: SID, media: { payload: SILENCE_160.toString('base64') } });
    expect(Object.keys(msg.media)).toEqual(['payload']);
  });

  it('serialises mark and clear', () => {
    expect(JSON.parse(enc.mark('vg1:100"x'))).toEqual({ event: 'mark', streamSid: SID, mark: { name: 'vg1:100"x' } });
    expect(JSON.parse(enc.clear())).toEqual({ event: 'clear', streamSid: SID });
  });
});
