/** Tool version, reported in every scan report. Keep in step with package.json (a test checks). */
export const VERSION = '0.1.0';
export const TOOL_NAME = 'earmark';
