/**
 * Twilio Media Streams messages as Twilio sends and expects them (PROTOCOLS.md §1.3–§1.5;
 * docs/protocols-audit.md): counters as strings, extra fields Twilio may add tolerated, and
 * outbound messages with exactly the documented keys.
 */
import { describe, expect, it } from 'vitest';
import { OutboundEncoder, parseInbound } from '../../src/transport/twilio/codec.js';

const SID = 'MZ00000000000000000000000000000000';

describe('Twilio media stream codec on the wire', () => {
  it('parses the documented examples, counters as strings of digits', () => {
    expect(parseInbound('{"event":"connected","protocol":"Call","version":"1.0.0"}')).toEqual({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    const start = parseInbound(JSON.stringify({
      event: 'start', sequenceNumber: '1', streamSid: SID,
      start: { accountSid: 'AC0', streamSid: SID, callSid: 'CA0', tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters: { token: 't' } },
    }));
    expect(start).toMatchObject({ event: 'start', sequenceNumber: 1, start: { callSid: 'CA0', customParameters: { token: 't' }, tracks: ['inbound'] } });
    const media = parseInbound(`{"event":"media","sequenceNumber":"2","streamSid":"${SID}","media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"//////////8="}}`);
    expect(media).toMatchObject({ event: 'media', sequenceNumber: 2, chunk: 1, timestampMs: 5, track: 'inbound' });
    expect(parseInbound(`{"event":"dtmf","sequenceNumber":"57","streamSid":"${SID}","dtmf":{"track":"inbound_track","digit":"1"}}`)).toMatchObject({ event: 'dtmf', digit: '1' });
    expect(parseInbound(`{"event":"mark","sequenceNumber":"58","streamSid":"${SID}","mark":{"name":"resp1:840"}}`)).toMatchObject({ event: 'mark', name: 'resp1:840' });
    expect(parseInbound(`{"event":"stop","sequenceNumber":"99","streamSid":"${SID}","stop":{"accountSid":"AC0","callSid":"CA0"}}`)).toMatchObject({ event: 'stop', callSid: 'CA0' });
  });

  it('tolerates fields Twilio may add, and a 20 ms (160-byte) frame is the normal case', () => {
    const payload = Buffer.alloc(160, 0xff).toString('base64');
    const m = parseInbound(JSON.stringify({ event: 'media', sequenceNumber: '3', streamSid: SID, extra: { x: 1 }, media: { track: 'inbound', chunk: '2', timestamp: '25', payload, newField: true } }));
    expect(m).toMatchObject({ event: 'media', timestampMs: 25 });
    expect(m.event === 'media' && m.payload.length).toBe(160);
    const s = parseInbound(JSON.stringify({ event: 'start', sequenceNumber: '1', streamSid: SID, start: { accountSid: 'AC0', streamSid: SID, callSid: 'CA0', tracks: ['inbound'], mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 }, customParameters: {}, newThing: 'x' } }));
    expect(s.event).toBe('start');
  });

  it('sends media with only {payload}, marks with only {name}, clear with only streamSid', () => {
    const enc = new OutboundEncoder(SID);
    expect(JSON.parse(enc.media(Buffer.alloc(8, 0xff)))).toEqual({ event: 'media', streamSid: SID, media: { payload: '//////////8=' } });
    expect(JSON.parse(enc.mark('a"b'))).toEqual({ event: 'mark', streamSid: SID, mark: { name: 'a"b' } });
    expect(JSON.parse(enc.clear())).toEqual({ event: 'clear', streamSid: SID });
  });
});
