/** Text rendering of `earmark info` (a probe of one file). */
import type { ProbeResult } from '../../lib/audio/probe.js';

export function renderProbeText(p: ProbeResult): string {
  const rows: [string, string][] = [
    ['File', p.path],
    ['Size', `${p.sizeBytes} bytes`],
    ['SHA-256', p.sha256],
    ['Container', p.container],
    ['Codec', p.codec],
    ['Sample rate', `${p.sampleRate} Hz`],
    ['Channels', String(p.channels)],
    ['Duration', `${p.durationSec.toFixed(3)} s (${p.frames} frames decoded)`],
    ['Container says', p.containerDurationSec === null ? 'no duration' : `${p.containerDurationSec.toFixed(3)} s`],
    ['Video track', p.hasVideo ? 'yes' : 'no'],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}
