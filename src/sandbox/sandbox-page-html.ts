/**
 * The sandbox page's markup. It is static: no value from the service or from a log line is ever
 * placed in it. The script (sandbox-page-script.ts) fills the containers from the JSON API.
 */
export const SANDBOX_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Vouch sandbox</title>
<link rel="stylesheet" href="/sandbox/app.css">
<script src="/sandbox/app.js" defer></script>
</head>
<body>
<header class="page-header">
  <h1>Vouch sandbox</h1>
  <p>Slack and Duo are simulated here: the messages below are exactly what Vouch sends, and you play each engineer by clicking their buttons and answering their phone.
  To go live, set the Slack and Duo credentials described in the README and restart.</p>
  <p>Then review the answers as the security team does: <a href="/review">open the review console</a> and sign in at the sandbox's own identity provider as Dana (a reviewer) or Erin (an admin).</p>
</header>
<main>
  <section class="panel run-panel" aria-labelledby="run-title">
    <h2 id="run-title">Run a suspicious command</h2>
    <form id="run-form" class="run-form" novalidate>
      <div class="field">
        <label for="run-preset">Ready-made command</label>
        <select id="run-preset" name="preset"><option value="">Type your own below</option></select>
      </div>
      <div class="field">
        <label for="run-login">Who runs it</label>
        <select id="run-login" name="login" required></select>
      </div>
      <div class="field field-wide">
        <label for="run-command">Command line</label>
        <input id="run-command" name="command" type="text" required autocomplete="off" spellcheck="false" placeholder="cat /etc/shadow">
      </div>
      <div class="field">
        <label for="run-host">Host</label>
        <input id="run-host" name="host" type="text" value="sandbox-1" autocomplete="off" spellcheck="false">
      </div>
      <div class="field field-check">
        <input id="run-root" name="asRoot" type="checkbox" checked>
        <label for="run-root">with sudo (as root)</label>
      </div>
      <div class="field field-submit">
        <button type="submit" class="button primary" id="run-submit">Run it</button>
      </div>
    </form>
    <p id="run-status" class="status-line" role="status" aria-live="polite"></p>
  </section>

  <section class="engineers" aria-labelledby="engineers-title">
    <h2 id="engineers-title">Engineers</h2>
    <p class="hint">Each card is one person: their Slack DM with Vouch on the left, their phone with Duo Mobile on the right.</p>
    <div id="engineer-cards" class="engineer-cards"><p class="empty">Loading…</p></div>
  </section>

  <div class="bottom-row">
    <section class="panel security-panel" aria-labelledby="security-title">
      <h2 id="security-title"><span class="channel-hash">#</span>security</h2>
      <p class="hint">Escalations reach the security team here.</p>
      <div id="security-messages" class="message-list"><p class="empty">Loading…</p></div>
    </section>
    <section class="panel alerts-panel" aria-labelledby="alerts-title">
      <h2 id="alerts-title">Alerts</h2>
      <p class="hint">The newest 50, as stored in the database.</p>
      <div class="table-wrap">
        <table id="alerts-table" class="alerts-table">
          <thead><tr><th scope="col">Time</th><th scope="col">Owner</th><th scope="col">Host</th><th scope="col">Command</th><th scope="col">Rule</th><th scope="col">Status</th><th scope="col">Escalation reason</th><th scope="col">Second factor</th></tr></thead>
          <tbody id="alerts-body"><tr><td colspan="8" class="empty">Loading…</td></tr></tbody>
        </table>
      </div>
    </section>
  </div>
</main>
<div id="toast" class="toast" role="alert" aria-live="assertive" hidden></div>
</body>
</html>
`;
