/** The sandbox page's stylesheet: plain CSS, Slack-like message cards and a phone-shaped Duo panel. */
export const SANDBOX_PAGE_CSS = `
:root {
  --ink: #1d1c1d;
  --muted: #616061;
  --line: #dddddd;
  --page: #f4f4f6;
  --card: #ffffff;
  --slack-aubergine: #3f0e40;
  --green: #007a5a;
  --green-dark: #005e45;
  --red: #e01e5a;
  --red-dark: #b3134a;
  --focus: #1264a3;
  --duo: #6bbf4e;
}
* { box-sizing: border-box; }
html { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: var(--page); }
body { margin: 0; }
h1, h2, h3 { line-height: 1.2; margin: 0 0 .4rem; }
h2 { font-size: 1.2rem; }
h3 { font-size: 1rem; }
main { padding: 1rem 1.5rem 3rem; max-width: 1500px; margin: 0 auto; }
.page-header { background: var(--slack-aubergine); color: #fff; padding: 1rem 1.5rem; }
.page-header h1 { font-size: 1.5rem; }
.page-header p { margin: 0; max-width: 70rem; opacity: .92; }
.panel { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem; margin-bottom: 1.2rem; }
.hint { color: var(--muted); margin: 0 0 .6rem; font-size: .9rem; }
.empty { color: var(--muted); font-style: italic; margin: .3rem 0; }
.status-line { min-height: 1.3em; margin: .5rem 0 0; color: var(--muted); }
.status-line.error { color: var(--red-dark); }

/* Run form */
.run-form { display: flex; flex-wrap: wrap; gap: .7rem 1rem; align-items: flex-end; }
.field { display: flex; flex-direction: column; gap: .2rem; }
.field label { font-weight: 600; font-size: .85rem; }
.field-wide { flex: 1 1 22rem; }
.field-check { flex-direction: row; align-items: center; gap: .4rem; padding-bottom: .45rem; }
.field-check label { font-weight: 400; font-size: .95rem; }
input[type=text], select, textarea { font: inherit; padding: .4rem .55rem; border: 1px solid #b5b5b5; border-radius: 5px; background: #fff; color: var(--ink); }
input[type=text] { min-width: 9rem; }
#run-command { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
textarea { width: 100%; min-height: 5.5rem; resize: vertical; }
input:focus-visible, select:focus-visible, textarea:focus-visible, button:focus-visible { outline: 3px solid var(--focus); outline-offset: 1px; }

/* Buttons, Slack style */
.button { font: inherit; font-weight: 700; font-size: .9rem; padding: .35rem .9rem; border-radius: 5px; border: 1px solid #b5b5b5; background: #fff; color: var(--ink); cursor: pointer; }
.button:hover { background: #f6f6f6; }
.button.primary { background: var(--green); border-color: var(--green); color: #fff; }
.button.primary:hover { background: var(--green-dark); }
.button.danger { background: var(--red); border-color: var(--red); color: #fff; }
.button.danger:hover { background: var(--red-dark); }
.button:disabled { opacity: .55; cursor: progress; }

/* Engineer cards */
.engineer-cards { display: flex; flex-direction: column; gap: 1.2rem; margin-bottom: 1.2rem; }
.engineer { background: var(--card); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
.engineer-head { display: flex; align-items: center; gap: .7rem; padding: .6rem 1rem; border-bottom: 1px solid var(--line); background: #fafafa; }
.avatar { width: 2.1rem; height: 2.1rem; border-radius: 6px; display: grid; place-items: center; font-weight: 700; color: #fff; background: #4a6fa5; flex: none; }
.avatar.bot { background: var(--slack-aubergine); }
.engineer-head .who { display: flex; flex-direction: column; }
.engineer-head .login { color: var(--muted); font-size: .85rem; }
.engineer-body { display: grid; grid-template-columns: minmax(0, 1fr) 280px; gap: 1rem; padding: 1rem; }
@media (max-width: 900px) { .engineer-body { grid-template-columns: 1fr; } }
.dm-title { font-size: .85rem; color: var(--muted); margin: 0 0 .4rem; font-weight: 600; }
.dm { position: relative; }

/* Messages */
.message-list { display: flex; flex-direction: column; gap: .2rem; max-height: 42rem; overflow-y: auto; }
.message { display: flex; gap: .6rem; padding: .5rem .4rem; border-radius: 6px; }
.message:hover { background: #f8f8f8; }
.message-main { min-width: 0; flex: 1; }
.message-meta { display: flex; gap: .5rem; align-items: baseline; }
.message-author { font-weight: 700; }
.app-badge { font-size: .65rem; font-weight: 700; color: var(--muted); background: #e8e8e8; border-radius: 3px; padding: 0 .25rem; }
.message-time, .edited { color: var(--muted); font-size: .78rem; }
.message.in-thread { margin-left: 2.7rem; border-left: 3px solid var(--line); }
.block { margin: .25rem 0; overflow-wrap: anywhere; }
.block-header { font-size: 1.05rem; font-weight: 800; }
.block-fields { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: .35rem 1rem; }
.block-context { color: var(--muted); font-size: .8rem; display: flex; gap: .5rem; flex-wrap: wrap; }
.block-divider { border: 0; border-top: 1px solid var(--line); margin: .5rem 0; }
.block-actions { display: flex; gap: .5rem; flex-wrap: wrap; margin-top: .5rem; }
.mrkdwn-line { white-space: pre-wrap; }
.mrkdwn-quote { border-left: 4px solid #dddddd; padding-left: .6rem; color: #454245; white-space: pre-wrap; }
pre.code { margin: .3rem 0; padding: .5rem .6rem; background: #f8f8f8; border: 1px solid #e2e2e2; border-radius: 4px; white-space: pre-wrap; overflow-wrap: anywhere; font: .85rem/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; color: #1d1c1d; }
code.inline { font: .85rem ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f3f3f3; border: 1px solid #e2e2e2; border-radius: 3px; padding: 0 .2rem; color: #c01343; }

/* Modal */
.modal { border: 1px solid #b9b9b9; border-radius: 10px; box-shadow: 0 8px 30px rgba(0, 0, 0, .18); background: #fff; margin: .6rem 0 1rem; }
.modal-head { display: flex; align-items: center; justify-content: space-between; padding: .7rem 1rem; border-bottom: 1px solid var(--line); }
.modal-head h3 { margin: 0; font-size: 1.1rem; }
.modal-body { padding: .8rem 1rem; }
.modal-foot { display: flex; justify-content: flex-end; gap: .5rem; padding: .7rem 1rem; border-top: 1px solid var(--line); background: #fafafa; border-radius: 0 0 10px 10px; }
.input-block { margin: .6rem 0; }
.input-block label { display: block; font-weight: 700; margin-bottom: .3rem; }
.input-hint { color: var(--muted); font-size: .82rem; margin-top: .25rem; }
.field-error { color: var(--red-dark); font-weight: 600; font-size: .88rem; margin-top: .3rem; }
textarea[aria-invalid=true] { border-color: var(--red); }

/* Phone */
.phone { justify-self: center; width: 260px; min-height: 380px; background: #1b1b1d; border-radius: 34px; padding: 14px 12px 22px; box-shadow: 0 6px 18px rgba(0, 0, 0, .25); display: flex; flex-direction: column; }
.phone-notch { width: 90px; height: 18px; background: #000; border-radius: 0 0 12px 12px; margin: -14px auto 8px; }
.phone-screen { flex: 1; background: #f2f4f5; border-radius: 22px; padding: .8rem .7rem; display: flex; flex-direction: column; gap: .6rem; overflow: hidden; }
.phone-app { display: flex; align-items: center; gap: .4rem; font-weight: 800; color: #2b2b2b; }
.duo-mark { width: 1.4rem; height: 1.4rem; border-radius: 50%; background: var(--duo); color: #fff; display: grid; place-items: center; font-size: .75rem; }
.phone-owner { color: var(--muted); font-size: .8rem; }
.push { background: #fff; border-radius: 14px; padding: .7rem; box-shadow: 0 1px 4px rgba(0, 0, 0, .12); }
.push h4 { margin: 0 0 .4rem; font-size: .95rem; }
.push dl { margin: 0 0 .6rem; display: grid; grid-template-columns: auto minmax(0, 1fr); gap: .15rem .5rem; font-size: .8rem; }
.push dt { color: var(--muted); text-transform: capitalize; }
.push dd { margin: 0; overflow-wrap: anywhere; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; max-height: 6rem; overflow-y: auto; }
.push-buttons { display: grid; grid-template-columns: 1fr 1fr; gap: .4rem; }
.push-buttons .fraud { grid-column: 1 / -1; background: transparent; border-color: transparent; color: var(--red-dark); font-weight: 600; }
.push-buttons .fraud:hover { text-decoration: underline; }
.phone .empty { text-align: center; margin-top: 3rem; }

/* Security and alerts */
.bottom-row { display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 3fr); gap: 1.2rem; align-items: start; }
@media (max-width: 1100px) { .bottom-row { grid-template-columns: 1fr; } }
.channel-hash { color: var(--muted); }
.table-wrap { overflow-x: auto; }
.alerts-table { border-collapse: collapse; width: 100%; font-size: .86rem; }
.alerts-table th, .alerts-table td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
.alerts-table th { background: #fafafa; position: sticky; top: 0; }
.alerts-table td.command { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; max-width: 22rem; overflow-wrap: anywhere; }
.status { display: inline-block; border-radius: 10px; padding: 0 .5rem; font-weight: 700; font-size: .78rem; background: #e8e8e8; }
.status-verified { background: #d8f3e6; color: #005e45; }
.status-escalated { background: #fde1e8; color: #a0103f; }
.status-verifying { background: #e0ecfb; color: #0b4f8a; }
.status-asked, .status-new { background: #fff3cd; color: #7a5a00; }
.status-suppressed { background: #eeeeee; color: #555555; }

.toast { position: fixed; right: 1rem; bottom: 1rem; max-width: 28rem; background: #fff1f4; color: #8a0f36; border: 1px solid #f2a7bd; border-radius: 8px; padding: .7rem 1rem; box-shadow: 0 4px 14px rgba(0, 0, 0, .15); }
`;
