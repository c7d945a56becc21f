/** `earmark/report`: the earmark.report/1 schema, its deterministic JSON, and the text and HTML renderings. */
export { REPORT_SCHEMA } from './types.js';
export type { EditKind, Report, ReportEdit, ReportInput, ReportLeg, ReportPayload, ReportSegment } from './types.js';
export { normalizeReport, renderReportJson, roundSignificant, roundTo } from './json.js';
export { renderReportText } from './text.js';
export { renderReportHtml } from './html.js';
