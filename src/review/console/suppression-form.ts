import { html, type Html } from './html.js';

/** How long a suppression made in the console may last; the API accepts any duration up to 90 days. */
export const SUPPRESSION_DURATIONS = ['8h', '1d', '7d', '30d', '90d'] as const;

export interface SuppressionFormValues {
  action: string;
  csrfToken: string;
  rule: string | null;
  user: string | null;
  host: string | null;
  command: string | null;
  /** The alert it is made from, recorded in that alert's trail. */
  fromAlert: string | null;
}

/** The suppression form, prefilled (from an alert, or from a tuning suggestion). */
export function suppressionForm(values: SuppressionFormValues): Html {
  const field = (name: string, label: string, value: string | null, hint: string) =>
    html`<div class="field"><label for="suppress-${name}">${label}</label><input id="suppress-${name}" name="${name}" type="text" value="${value ?? ''}" autocomplete="off" spellcheck="false"><span class="hint">${hint}</span></div>`;
  return html`<form method="post" action="${values.action}" class="action-form suppress-form">
<input type="hidden" name="csrf" value="${values.csrfToken}">
${values.fromAlert ? html`<input type="hidden" name="from_alert" value="${values.fromAlert}">` : ''}
${field('rule', 'Rule', values.rule, 'empty: any rule')}
${field('user', 'Person', values.user, 'empty: anyone')}
${field('host', 'Host (glob)', values.host, 'e.g. web-*; empty: any host')}
<div class="field"><label for="suppress-command">Exact command</label><textarea id="suppress-command" name="command" rows="2" spellcheck="false">${values.command ?? ''}</textarea><span class="hint">empty: any command</span></div>
<div class="field"><label for="suppress-for">For</label><select id="suppress-for" name="for">${SUPPRESSION_DURATIONS.map((duration) => html`<option value="${duration}"${duration === '7d' ? html` selected` : ''}>${duration}</option>`)}</select></div>
<div class="field"><label for="suppress-reason">Reason</label><input id="suppress-reason" name="reason" type="text" required maxlength="2000"></div>
<button type="submit" class="button">Create suppression</button>
</form>`;
}
