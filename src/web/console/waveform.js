// The stereo recording (API.md: left = caller, right = agent, 8 kHz PCM16) drawn as two
// waveforms on a canvas, with a playhead that follows the <audio> element; clicking or using
// the arrow keys on the canvas seeks. The WAV is parsed here (RIFF chunks, then min/max per
// pixel column) rather than through WebAudio: no AudioContext, no resampling, exact channels.

/** Samples of each channel as Int16Array views, from a RIFF/WAVE buffer. */
export function parseWav(buf) {
  const dv = new DataView(buf);
  const tag = (o) => String.fromCharCode(dv.getUint8(o), dv.getUint8(o + 1), dv.getUint8(o + 2), dv.getUint8(o + 3));
  if (buf.byteLength < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new Error('not a WAV file');
  let channels = 1;
  let sampleRate = 8000;
  let bits = 16;
  let off = 12;
  while (off + 8 <= buf.byteLength) {
    const id = tag(off);
    let size = dv.getUint32(off + 4, true);
    const body = off + 8;
    if (id === 'fmt ') {
      channels = dv.getUint16(body + 2, true);
      sampleRate = dv.getUint32(body + 4, true);
      bits = dv.getUint16(body + 14, true);
    } else if (id === 'data') {
      // A header written before the process died may say 0 or too much: trust the file's length.
      if (size === 0 || body + size > buf.byteLength) size = buf.byteLength - body;
      if (bits !== 16) throw new Error(`${bits}-bit WAV is not supported`);
      const frames = Math.floor(size / (2 * channels));
      const all = new Int16Array(buf.slice(body, body + frames * 2 * channels));
      const out = [];
      for (let c = 0; c < channels; c++) {
        const ch = new Int16Array(frames);
        for (let i = 0; i < frames; i++) ch[i] = all[i * channels + c];
        out.push(ch);
      }
      return { sampleRate, channels: out, seconds: frames / sampleRate };
    }
    off = body + size + (size % 2);
  }
  throw new Error('WAV has no data chunk');
}

const LANES = [
  { label: 'Caller (left)', color: '#2563eb' },
  { label: 'Agent (right)', color: '#059669' },
];

/** Mounts the canvas for `wav` next to `audio`; returns a function that detaches it. */
export function mountWaveform(container, audio, wav) {
  const canvas = document.createElement('canvas');
  canvas.className = 'waveform';
  canvas.tabIndex = 0;
  canvas.setAttribute('role', 'slider');
  canvas.setAttribute('aria-label', 'Recording position: caller on top, agent below');
  canvas.setAttribute('aria-valuemin', '0');
  canvas.setAttribute('aria-valuemax', String(Math.round(wav.seconds)));
  container.append(canvas);

  let peaks = null;
  let widthPx = 0;
  function computePeaks(cols) {
    return wav.channels.map((ch) => {
      const p = new Float32Array(cols * 2);
      const per = ch.length / cols;
      for (let x = 0; x < cols; x++) {
        let lo = 0;
        let hi = 0;
        const end = Math.min(ch.length, Math.floor((x + 1) * per));
        for (let i = Math.floor(x * per); i < end; i++) {
          const v = ch[i];
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
        p[x * 2] = lo / 32768;
        p[x * 2 + 1] = hi / 32768;
      }
      return p;
    });
  }

  function draw() {
    const dpr = window.devicePixelRatio || 1;
    const cssW = canvas.clientWidth || 600;
    const cssH = canvas.clientHeight || 140;
    if (canvas.width !== Math.round(cssW * dpr) || canvas.height !== Math.round(cssH * dpr)) {
      canvas.width = Math.round(cssW * dpr);
      canvas.height = Math.round(cssH * dpr);
    }
    if (widthPx !== canvas.width) {
      widthPx = canvas.width;
      peaks = computePeaks(widthPx);
    }
    const g = canvas.getContext('2d');
    const W = canvas.width;
    const H = canvas.height;
    g.clearRect(0, 0, W, H);
    const lanes = Math.min(2, peaks.length);
    const laneH = H / Math.max(1, lanes);
    const played = wav.seconds > 0 ? Math.round((audio.currentTime / wav.seconds) * W) : 0;
    for (let l = 0; l < lanes; l++) {
      const mid = laneH * l + laneH / 2;
      const amp = laneH / 2 - 4 * dpr;
      const p = peaks[l];
      for (let x = 0; x < W; x++) {
        g.fillStyle = x < played ? LANES[l].color : `${LANES[l].color}88`;
        const y0 = mid - p[x * 2 + 1] * amp;
        const y1 = mid - p[x * 2] * amp;
        g.fillRect(x, y0, 1, Math.max(1, y1 - y0));
      }
      g.fillStyle = '#64748b';
      g.font = `${11 * dpr}px system-ui, sans-serif`;
      g.fillText(LANES[l].label, 6 * dpr, laneH * l + 14 * dpr);
    }
    if (lanes === 2) {
      g.fillStyle = '#e2e8f0';
      g.fillRect(0, laneH, W, 1);
    }
    g.fillStyle = '#0f172a';
    g.fillRect(played, 0, Math.max(1, dpr), H);
    canvas.setAttribute('aria-valuenow', String(Math.round(audio.currentTime)));
  }

  let raf = 0;
  const loop = () => {
    draw();
    raf = audio.paused ? 0 : requestAnimationFrame(loop);
  };
  const kick = () => {
    if (!raf) raf = requestAnimationFrame(loop);
  };
  const seekTo = (seconds) => {
    audio.currentTime = Math.max(0, Math.min(wav.seconds, seconds));
    draw();
  };
  canvas.addEventListener('click', (ev) => {
    const r = canvas.getBoundingClientRect();
    seekTo(((ev.clientX - r.left) / r.width) * wav.seconds);
  });
  canvas.addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowRight') seekTo(audio.currentTime + 5);
    else if (ev.key === 'ArrowLeft') seekTo(audio.currentTime - 5);
    else if (ev.key === ' ') audio.paused ? void audio.play() : audio.pause();
    else return;
    ev.preventDefault();
  });
  audio.addEventListener('play', kick);
  audio.addEventListener('seeked', draw);
  audio.addEventListener('timeupdate', () => audio.paused && draw());
  const ro = new ResizeObserver(() => draw());
  ro.observe(canvas);
  draw();
  return () => {
    cancelAnimationFrame(raf);
    ro.disconnect();
  };
}
