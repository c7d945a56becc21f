/** The kinds of connection (leg) a participant can have to the bridge; one definition for all modules. */
export const LEG_KINDS = ['app', 'browser', 'sip', 'pstn', 'recorder'] as const;
export type LegKind = (typeof LEG_KINDS)[number];
