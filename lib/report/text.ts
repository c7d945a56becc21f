/** Human-readable rendering of a report: plain text for the terminal (the HTML page: html.ts). */
import { normalizeReport } from './json.js';
import type { Report } from './types.js';

export function renderReportText(input: Report): string {
  const r = normalizeReport(input);
  const lines: string[] = [];
  lines.push(`earmark ${r.tool.version} scan of ${r.input.path}`);
  lines.push(`  sha256 ${r.input.sha256}`);
  lines.push(`  ${r.input.durationSec.toFixed(3)} s, ${r.input.sampleRate} Hz, ${r.input.channels} channel(s)${r.input.codec ? `, ${r.input.codec}` : ''}${r.input.container ? ` in ${r.input.container}` : ''}`);
  if (r.key) lines.push(`  key id ${r.key.id}`);
  if (r.registry) lines.push(`  registry ${r.registry.path}: ${r.registry.candidates} candidate leg(s)`);
  lines.push('');
  if (r.legs.length === 0) lines.push('Legs: none detected');
  for (const leg of r.legs) {
    lines.push(`Leg ${leg.token}  p ${leg.pValueStatement ?? `=${leg.pValue}`}  score=${leg.score}${leg.speed !== undefined && leg.speed !== 1 ? `  speed=${leg.speed}` : ''}${leg.profile ? `  mark ${leg.profile}` : ''}${leg.search && leg.search !== 'fast-path' ? `  found by the ${leg.search} search` : ''}`);
    if (leg.participant || leg.meeting) lines.push(`  ${leg.participant ?? '?'} — ${leg.leg ?? '?'} leg, meeting ${leg.meeting ?? '?'}${leg.device ? `, device ${leg.device}` : ''}${leg.joined ? `, joined ${leg.joined}` : ''}`);
    if (leg.content) lines.push(`  content check: ${leg.content.verdict}${leg.content.agreement !== null ? ` (${Math.round(100 * leg.content.agreement)}% of ${leg.content.bits} bits agree; unrelated audio ~50%)` : ''}`);
    for (const m of leg.content?.mismatches ?? []) lines.push(`  CONTENT MISMATCH at clip ${m.start.toFixed(2)}–${m.end.toFixed(2)} s (${Math.round(100 * m.agreement)}% agree): the mark runs on, the content is not the leg's`);
    for (const s of leg.segments) lines.push(`  clip ${s.start.toFixed(3)}–${s.end.toFixed(3)} s  session ${s.sessionOffset.toFixed(3)} s${s.score !== undefined ? `  z=${s.score}` : ''}${s.sessionOffsetConfidence !== undefined ? `  timecode confidence ${s.sessionOffsetConfidence.toFixed(3)}` : ''}`);
  }
  if (r.marks?.length) {
    lines.push('', 'Marks searched (each layer separately):');
    for (const m of r.marks) {
      const key = m.keyLayer ? `  key-level layer z=${m.keyLayer.score} p=${m.keyLayer.pValue}` : '';
      lines.push(`  ${m.profile}: ${m.legsNamed.length ? `named ${m.legsNamed.join(', ')}` : 'no leg named'}${key}  (alpha ${m.alpha}, ${m.hypotheses} hypotheses, ${m.pValueBasis})`);
      if (m.forgery?.suspected) lines.push(`    POSSIBLE COPIED OR FORGED MARK: ${m.forgery.reason}`);
    }
  }
  if (r.contentReferences?.length) {
    lines.push('', 'Content references given:');
    for (const c of r.contentReferences) lines.push(`  ${c.token}  sha256 ${c.sha256}  ${c.committed === null ? 'no registry to check' : c.committed ? 'committed in the registry' : 'NOT committed in the registry'}  ${c.used ? 'used' : 'not used'}`);
  }
  if (r.payload) {
    const p = r.payload;
    lines.push('', `Payload (${p.reason}): ${p.id ?? 'none'}  pilot z=${p.pilotScore} p=${p.pilotPValue}  check code ${p.crcOk ? 'valid' : 'not valid'}${p.registryMatches.length ? `  registry: ${p.registryMatches.join(', ')}` : ''}`);
  }
  lines.push('');
  if (r.edits.length === 0) lines.push('Edits: none found on the timeline');
  for (const e of r.edits) lines.push(`Edit ${e.kind} at ${e.time.toFixed(3)} s (confidence ${e.confidence}): ${e.evidence}`);
  lines.push('', 'Verdict:', wrap(r.verdict, 100));
  if (r.integrity && !r.integrity.unchanged) lines.push('', 'WARNING: the evidence file changed during the scan (SHA-256 differs at the end).');
  if (r.limits?.length) lines.push('', 'Limits:', ...r.limits.map((l) => `  - ${l}`));
  return `${lines.join('\n')}\n`;
}

function wrap(text: string, width: number): string {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out.map((l) => `  ${l}`).join('\n');
}
