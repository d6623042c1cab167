/**
 * The formats `vouch report` writes. Apart from the report itself so that the command line can
 * name them without loading the report's database code (every command would pay for it).
 */
export const REPORT_FORMATS = ['table', 'csv', 'json', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];
