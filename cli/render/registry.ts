/** Text renderings of the registry commands' results (`registry verify`, `registry list`). */
import type { RegistryEvent } from '../../lib/registry/events.js';
import type { IndexedEvent } from '../../lib/registry/registry.js';
import type { VerifyReport } from '../../lib/registry/verify.js';

const MAX_FINDINGS_SHOWN = 20;

/** `registry verify` text: first line says intact or names the first bad entry. */
export function renderVerifyText(report: VerifyReport): string {
  const lines: string[] = [];
  if (report.intact) {
    lines.push(`intact: ${report.location}: ${report.size} entries, ${report.checkpointsVerified} signed checkpoints verified (committed size ${report.committedSize})`);
  } else {
    const first = report.first!;
    const where = first.index === null ? '' : `first bad entry #${first.index} `;
    lines.push(`TAMPERED: ${report.location}: ${where}(${first.kind}): ${first.detail}`);
    for (const f of report.findings.slice(0, MAX_FINDINGS_SHOWN)) {
      lines.push(`  ${f.index === null ? '-' : `#${f.index}`} ${f.kind}: ${f.detail}`);
    }
    if (report.findings.length > MAX_FINDINGS_SHOWN) lines.push(`  … ${report.findings.length - MAX_FINDINGS_SHOWN} more findings (use --json)`);
  }
  for (const w of report.warnings) lines.push(`warning: ${w}`);
  lines.push(`origin: ${report.origin}`, `verifier key: ${report.verifierKey}`, `root (size ${report.size}): ${report.rootHash}`);
  return lines.join('\n');
}

/** `registry list` text: one line per entry. */
export function renderEventsText(events: readonly IndexedEvent[]): string {
  const describe = (e: RegistryEvent): string => {
    switch (e.type) {
      case 'meeting.created':
        return `meeting=${e.meeting} created=${e.created}`;
      case 'leg.joined':
        return `token=${e.token} meeting=${e.meeting} participant=${JSON.stringify(e.participant)} leg=${e.leg}${e.device === undefined ? '' : ` device=${JSON.stringify(e.device)}`} joined=${e.joined}`;
      case 'leg.left':
        return `token=${e.token} left=${e.left}`;
      case 'key.rotated':
        return `key=${e.key} rotated=${e.rotated}`;
      case 'leg.content':
        return `token=${e.token} reference=${e.reference} recorded=${e.recorded}`;
    }
  };
  if (events.length === 0) return '(no entries)';
  return events.map(({ index, event }) => `#${index} ${event.type} ${describe(event)}`).join('\n');
}
