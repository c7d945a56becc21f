/** `earmark/edits`: edits read off the session timeline of detected segments (cut, insert, reorder, splice, speed). */
export { timelineEdits } from './timeline.js';
export type { TimelineEdit, TimelineOptions, TimelineSegment } from './timeline.js';
