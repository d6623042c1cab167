import { MAX_SUPPRESSION_COMMAND_CHARS } from '../../alerts/suppression.js';
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

/**
 * A command made from an alert that is longer than this is not put in the form (the form would be
 * megabytes, over the request limit): the form says to use the alert's own command instead.
 */
export const FORM_COMMAND_CHARS = 8192;

/** The suppression form, prefilled (from an alert, or from a tuning suggestion). */
export function suppressionForm(values: SuppressionFormValues): Html {
  const length = values.command?.length ?? 0;
  const commandField =
    length > MAX_SUPPRESSION_COMMAND_CHARS
      ? html`<div class="field"><span class="label">Exact command</span><span class="hint">this alert's command is too long to suppress by itself (${String(length)} characters, over ${String(MAX_SUPPRESSION_COMMAND_CHARS)}): the rule, person and host narrow the suppression</span></div>`
      : values.fromAlert !== null && length > FORM_COMMAND_CHARS
        ? html`<div class="field"><span class="label">Exact command</span><input type="hidden" name="command_from_alert" value="1"><span class="hint">this alert's command (${String(length)} characters, too long to show here)</span></div>`
        : html`<div class="field"><label for="suppress-command">Exact command</label><textarea id="suppress-command" name="command" rows="2" spellcheck="false">${values.command ?? ''}</textarea><span class="hint">empty: any command</span></div>`;
  const field = (name: string, label: string, value: string | null, hint: string) =>
    html`<div class="field"><label for="suppress-${name}">${label}</label><input id="suppress-${name}" name="${name}" type="text" value="${value ?? ''}" autocomplete="off" spellcheck="false"><span class="hint">${hint}</span></div>`;
  return html`<form method="post" action="${values.action}" class="action-form suppress-form">
<input type="hidden" name="csrf" value="${values.csrfToken}">
${values.fromAlert ? html`<input type="hidden" name="from_alert" value="${values.fromAlert}">` : ''}
${field('rule', 'Rule', values.rule, 'empty: any rule')}
${field('user', 'Person', values.user, 'empty: anyone')}
${field('host', 'Host (glob)', values.host, 'e.g. web-*; empty: any host')}
${commandField}
<div class="field"><label for="suppress-for">For</label><select id="suppress-for" name="for">${SUPPRESSION_DURATIONS.map((duration) => html`<option value="${duration}"${duration === '7d' ? html` selected` : ''}>${duration}</option>`)}</select></div>
<div class="field"><label for="suppress-reason">Reason</label><input id="suppress-reason" name="reason" type="text" required maxlength="2000"></div>
<button type="submit" class="button">Create suppression</button>
</form>`;
}
