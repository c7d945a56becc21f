/** A report as a standalone HTML page (no scripts, no external resources), with the JSON report embedded. */
import { normalizeReport } from './json.js';
import type { Report } from './types.js';

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderReportHtml(input: Report): string {
  const r = normalizeReport(input);
  const rows = (cells: (string | number)[]): string => `<tr>${cells.map((c) => `<td>${escapeHtml(String(c))}</td>`).join('')}</tr>`;
  const legRows = r.legs
    .flatMap((leg) => leg.segments.map((s) => rows([leg.token, leg.participant ?? '', leg.leg ?? '', leg.meeting ?? '', s.start.toFixed(3), s.end.toFixed(3), s.sessionOffset.toFixed(3), s.sessionOffsetConfidence !== undefined ? s.sessionOffsetConfidence.toFixed(3) : '', leg.pValueStatement ?? String(leg.pValue), leg.profile ?? '', leg.content ? `${leg.content.verdict}${leg.content.agreement !== null ? ` (${Math.round(100 * leg.content.agreement)}% of ${leg.content.bits} bits)` : ''}` : ''])))
    .join('\n');
  const markRows = (r.marks ?? [])
    .map((m) => rows([m.profile, m.legsNamed.join(', ') || 'none', m.keyLayer ? `z ${m.keyLayer.score}, p ${m.keyLayer.pValue}` : '', m.forgery?.suspected ? `POSSIBLE COPIED OR FORGED MARK: ${m.forgery.reason}` : m.forgery?.reason ?? '', `${m.alpha}`, `${m.hypotheses}`, m.pValueBasis]))
    .join('\n');
  const editRows = r.edits.map((e) => rows([e.time.toFixed(3), e.kind, e.confidence, e.evidence])).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>earmark report: ${escapeHtml(r.input.path)}</title>
<style>body{font:14px/1.4 system-ui,sans-serif;max-width:70em;margin:2em auto}table{border-collapse:collapse}td,th{border:1px solid #999;padding:.2em .5em;text-align:left}code{font-size:12px}</style>
</head><body>
<h1>earmark scan report</h1>
<p><b>File</b> ${escapeHtml(r.input.path)}<br><b>SHA-256</b> <code>${escapeHtml(r.input.sha256)}</code><br>
<b>Duration</b> ${r.input.durationSec.toFixed(3)} s, ${r.input.sampleRate} Hz, ${r.input.channels} channel(s)<br>
<b>Tool</b> ${escapeHtml(r.tool.name)} ${escapeHtml(r.tool.version)}${r.key ? `<br><b>Key id</b> ${escapeHtml(r.key.id)}` : ''}</p>
<h2>Verdict</h2><p>${escapeHtml(r.verdict)}</p>
<h2>Legs and segments</h2>
<table><tr><th>token</th><th>participant</th><th>leg</th><th>meeting</th><th>clip start (s)</th><th>clip end (s)</th><th>session offset (s)</th><th>timecode confidence</th><th>p-value</th><th>mark</th><th>content check</th></tr>
${legRows || '<tr><td colspan="11">none detected</td></tr>'}
</table>
${markRows ? `<h2>Marks searched (each layer separately)</h2>
<table><tr><th>profile</th><th>legs named (own layer)</th><th>key-level layer</th><th>layers' consistency</th><th>alpha</th><th>hypotheses</th><th>p-value basis</th></tr>
${markRows}
</table>
` : ''}${r.payload ? `<h2>Blind payload</h2><p>${escapeHtml(`id ${r.payload.id ?? 'none'} (${r.payload.reason}); pilot z ${r.payload.pilotScore}, p ${r.payload.pilotPValue}; check code ${r.payload.crcOk ? 'valid' : 'not valid'}${r.payload.registryMatches.length ? `; registry legs: ${r.payload.registryMatches.join(', ')}` : ''}`)}</p>` : ''}
<h2>Edits</h2>
<table><tr><th>time (s)</th><th>kind</th><th>confidence</th><th>evidence</th></tr>
${editRows || '<tr><td colspan="4">none found</td></tr>'}
</table>
<h2>Limits</h2><ul>${(r.limits ?? []).map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>
<h2>Machine-readable report</h2><pre><code>${escapeHtml(JSON.stringify(r, null, 2))}</code></pre>
</body></html>
`;
}
