/**
 * The review console's script. The pages work without it (they are server-rendered forms and
 * links); it only adds conveniences: filters apply when a select changes, risky actions ask for
 * confirmation, and times show in the reader's own zone beside UTC.
 */
import { dateTimeText } from '/assets/shared/dom.js';

/** A select marked data-autosubmit sends its form when changed, so one click filters the queue. */
function autoSubmitFilters(root: ParentNode): void {
  for (const select of root.querySelectorAll<HTMLSelectElement>('select[data-autosubmit]')) {
    select.addEventListener('change', () => select.form?.requestSubmit());
  }
}

/** A form with data-confirm asks first (Ask again messages a person). */
function confirmRiskyForms(root: ParentNode): void {
  for (const form of root.querySelectorAll<HTMLFormElement>('form[data-confirm]')) {
    form.addEventListener('submit', (event) => {
      if (!window.confirm(form.dataset.confirm ?? 'Are you sure?')) event.preventDefault();
    });
  }
}

/** Each <time datetime> gets the local time as its tooltip; the text stays UTC, as the trail is. */
function localTimes(root: ParentNode): void {
  for (const time of root.querySelectorAll<HTMLTimeElement>('time[datetime]')) {
    time.title = `${dateTimeText(time.dateTime, { dateStyle: 'medium', timeStyle: 'medium' })} (your time)`;
  }
}

autoSubmitFilters(document);
confirmRiskyForms(document);
localTimes(document);
