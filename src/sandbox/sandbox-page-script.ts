/**
 * The sandbox page's script, served as /sandbox/app.js (the page's CSP allows no inline code).
 *
 * It polls /sandbox/api/state once a second and re-renders only the parts whose data changed, so
 * a half-typed reason and the keyboard focus survive polling. Every string from the service, and
 * so every command line and reason, reaches the DOM through textContent or a text node; Slack
 * mrkdwn is shown as text with light formatting, never parsed as HTML.
 *
 * Kept as a string (inside String.raw, so backslashes reach the browser as written): the service
 * has no front-end build step. The source avoids backticks and dollar-brace so it can live here.
 */
export const SANDBOX_PAGE_SCRIPT = String.raw`'use strict';
(function () {
  var POLL_MS = 1000;
  var TOAST_MS = 8000;
  /** Section key -> JSON of the data it was last rendered from. */
  var rendered = new Map();
  /** Unsent modal text, keyed by view id and input action id. */
  var drafts = new Map();
  /** Modals the person closed here; the service is not told, as Slack would not need to be. */
  var dismissed = new Set();
  /** userId -> the card's containers. */
  var cards = new Map();
  var polling = false;
  var pollAgain = false;
  var toastTimer = null;
  var offline = false;

  var EMOJI = {
    bell: '\u{1F514}', hourglass_flowing_sand: '\u23F3', iphone: '\u{1F4F1}', white_check_mark: '\u2705',
    rotating_light: '\u{1F6A8}', alarm_clock: '\u23F0', white_circle: '\u26AA', large_yellow_circle: '\u{1F7E1}',
    large_orange_circle: '\u{1F7E0}', red_circle: '\u{1F534}', warning: '\u26A0\uFE0F', lock: '\u{1F512}'
  };

  function byId(id) { return document.getElementById(id); }

  /** Creates an element; props.text becomes textContent, props.on* listeners, the rest attributes. */
  function el(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      var value = props[key];
      if (value === undefined || value === null || value === false) return;
      if (key === 'text') node.textContent = String(value);
      else if (key === 'className') node.className = value;
      else if (key.indexOf('on') === 0) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
    });
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function isObject(value) { return typeof value === 'object' && value !== null && !Array.isArray(value); }

  function textOf(value) { return isObject(value) && typeof value.text === 'string' ? value.text : ''; }

  function timeText(iso) {
    var date = new Date(iso);
    return isNaN(date.getTime()) ? String(iso) : date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }

  function dateTimeText(iso) {
    var date = new Date(iso);
    return isNaN(date.getTime()) ? String(iso) : date.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }

  // --- Talking to the service ------------------------------------------------------------------

  function api(path, body) {
    var init = body === undefined
      ? { headers: { accept: 'application/json' }, cache: 'no-store' }
      : { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) };
    return fetch('/sandbox/api/' + path, init).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (json) {
        if (!response.ok) throw new Error((json && typeof json.error === 'string' ? json.error : 'HTTP ' + response.status));
        return json;
      });
    });
  }

  function showError(message) {
    var toast = byId('toast');
    toast.textContent = message;
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { toast.hidden = true; }, TOAST_MS);
  }

  /** Runs an action from a button: disables the buttons it names while it is in flight. */
  function act(buttons, request) {
    buttons.forEach(function (button) { button.disabled = true; });
    return request()
      .catch(function (error) { showError(error.message); })
      .then(function () {
        buttons.forEach(function (button) { button.disabled = false; });
        refresh();
      });
  }

  // --- Slack mrkdwn, as text ---------------------------------------------------------------------

  /** Slack's escapes and special tokens turned into the text Slack would show. */
  function slackText(raw) {
    var withTokens = raw.replace(/<([^<>]*)>/g, function (_match, inner) {
      var date = /^!date\^(\d+)\^[^|]*\|(.*)$/.exec(inner);
      if (date) return new Date(Number(date[1]) * 1000).toLocaleString();
      var bar = inner.indexOf('|');
      var target = bar === -1 ? inner : inner.slice(0, bar);
      var label = bar === -1 ? '' : inner.slice(bar + 1);
      if (target.charAt(0) === '!') return '@' + (label || target.slice(1).split('^')[0]);
      if (target.charAt(0) === '@') return '@' + (label || target.slice(1));
      if (target.charAt(0) === '#') return '#' + (label || target.slice(1));
      return label || target;
    });
    var decoded = withTokens.replace(/&(lt|gt|amp);/g, function (_match, name) {
      return name === 'lt' ? '<' : name === 'gt' ? '>' : '&';
    });
    return emojiText(decoded);
  }

  /** plain_text is shown as written, apart from emoji shortcodes. */
  function emojiText(raw) {
    return raw.replace(/:([a-z0-9_+-]+):/g, function (match, name) { return EMOJI[name] || match; });
  }

  /** Inline code, bold and italic become elements; everything else is a text node. */
  function appendInline(parent, raw) {
    var pattern = /\x60([^\x60\n]+)\x60|\*([^*\n]+)\*|(^|[\s(])_([^_\n]+)_(?=$|[\s.,;:!?)])/g;
    var last = 0;
    var match;
    while ((match = pattern.exec(raw)) !== null) {
      var textEnd = match.index + (match[3] ? match[3].length : 0);
      parent.appendChild(document.createTextNode(slackText(raw.slice(last, textEnd))));
      if (match[1] !== undefined) parent.appendChild(el('code', { className: 'inline', text: slackText(match[1]) }));
      else if (match[2] !== undefined) parent.appendChild(el('strong', { text: slackText(match[2]) }));
      else parent.appendChild(el('em', { text: slackText(match[4]) }));
      last = pattern.lastIndex;
    }
    parent.appendChild(document.createTextNode(slackText(raw.slice(last))));
  }

  /** Renders mrkdwn into parent: code blocks, quotes and lines. */
  function appendMrkdwn(parent, raw) {
    raw.split('\x60\x60\x60').forEach(function (part, index) {
      if (index % 2 === 1) {
        parent.appendChild(el('pre', { className: 'code', text: slackText(part) }));
        return;
      }
      var lines = part.split('\n');
      var quote = null;
      lines.forEach(function (line, lineIndex) {
        if (line === '' && (lineIndex === 0 || lineIndex === lines.length - 1)) return;
        if (line.charAt(0) === '>') {
          if (!quote) { quote = el('div', { className: 'mrkdwn-quote' }); parent.appendChild(quote); }
          else quote.appendChild(document.createTextNode('\n'));
          appendInline(quote, line.slice(1));
          return;
        }
        quote = null;
        var div = el('div', { className: 'mrkdwn-line' });
        appendInline(div, line);
        parent.appendChild(div);
      });
    });
  }

  function textObject(object, className) {
    var node = el('div', { className: className });
    if (!isObject(object)) return node;
    if (object.type === 'mrkdwn') appendMrkdwn(node, textOf(object));
    else node.textContent = emojiText(textOf(object));
    return node;
  }

  // --- Block Kit ---------------------------------------------------------------------------------

  /** ctx: { userId, channel, ts } when the person can click, null for read-only messages. */
  function renderBlock(block, ctx) {
    if (!isObject(block)) return null;
    switch (block.type) {
      case 'header':
        return el('div', { className: 'block block-header', role: 'heading', 'aria-level': '4', text: emojiText(textOf(block.text)) });
      case 'section': {
        var section = el('div', { className: 'block block-section' });
        if (isObject(block.text)) section.appendChild(textObject(block.text, 'block-text'));
        if (Array.isArray(block.fields)) {
          var fields = el('div', { className: 'block-fields' });
          block.fields.forEach(function (field) { fields.appendChild(textObject(field, 'block-field')); });
          section.appendChild(fields);
        }
        return section;
      }
      case 'context': {
        var context = el('div', { className: 'block block-context' });
        (Array.isArray(block.elements) ? block.elements : []).forEach(function (element) {
          if (isObject(element) && (element.type === 'mrkdwn' || element.type === 'plain_text')) context.appendChild(textObject(element, 'context-item'));
        });
        return context;
      }
      case 'divider':
        return el('hr', { className: 'block-divider' });
      case 'actions':
        return renderActions(block, ctx);
      default:
        return null;
    }
  }

  function renderActions(block, ctx) {
    var row = el('div', { className: 'block block-actions' });
    var buttons = [];
    (Array.isArray(block.elements) ? block.elements : []).forEach(function (element) {
      if (!isObject(element) || element.type !== 'button' || typeof element.action_id !== 'string') return;
      var style = element.style === 'primary' ? ' primary' : element.style === 'danger' ? ' danger' : '';
      var button = el('button', {
        type: 'button',
        className: 'button' + style,
        text: textOf(element.text) || element.action_id,
        'data-action-id': element.action_id,
        disabled: ctx === null
      });
      if (ctx !== null) {
        button.addEventListener('click', function () {
          act(buttons, function () {
            return api('click', { userId: ctx.userId, channel: ctx.channel, ts: ctx.ts, actionId: element.action_id }).then(function (answer) {
              if (answer && answer.status !== 200) showError('The service answered the click with HTTP ' + answer.status + '.');
            });
          });
        });
      }
      buttons.push(button);
      row.appendChild(button);
    });
    return row;
  }

  function renderMessage(message, userId) {
    var ctx = userId === null ? null : { userId: userId, channel: message.channel, ts: message.ts };
    var main = el('div', { className: 'message-main' }, [
      el('div', { className: 'message-meta' }, [
        el('span', { className: 'message-author', text: 'Vouch' }),
        el('span', { className: 'app-badge', text: 'APP' }),
        el('time', { className: 'message-time', datetime: message.postedAt, text: timeText(message.postedAt) }),
        message.edited ? el('span', { className: 'edited', text: '(edited)' }) : null
      ])
    ]);
    var blocks = Array.isArray(message.blocks) ? message.blocks : [];
    if (blocks.length === 0) main.appendChild(textObject({ type: 'mrkdwn', text: message.text }, 'block block-text'));
    blocks.forEach(function (block) { var node = renderBlock(block, ctx); if (node) main.appendChild(node); });
    return el('article', {
      className: 'message' + (message.threadTs ? ' in-thread' : ''),
      'data-ts': message.ts,
      'aria-label': 'Message from Vouch at ' + timeText(message.postedAt)
    }, [el('div', { className: 'avatar bot', 'aria-hidden': 'true', text: 'V' }), main]);
  }

  function renderMessages(container, messages, userId, emptyText) {
    clear(container);
    if (messages.length === 0) { container.appendChild(el('p', { className: 'empty', text: emptyText })); return; }
    messages.forEach(function (message) { container.appendChild(renderMessage(message, userId)); });
    container.scrollTop = container.scrollHeight;
  }

  // --- The justification modal -----------------------------------------------------------------

  function renderView(container, user) {
    var view = user.view;
    var previous = container.querySelector('textarea, input');
    var hadFocus = previous !== null && document.activeElement === previous;
    var selection = hadFocus ? [previous.selectionStart, previous.selectionEnd] : null;
    clear(container);
    if (!view || dismissed.has(view.id)) return;
    var titleId = 'view-title-' + view.id;
    var body = el('div', { className: 'modal-body' });
    var inputs = [];
    view.blocks.forEach(function (block) {
      if (isObject(block) && block.type === 'input') body.appendChild(renderInput(view, block, inputs));
      else { var node = renderBlock(block, null); if (node) body.appendChild(node); }
    });
    var submit = el('button', { type: 'button', className: 'button primary', text: view.submit });
    var cancel = el('button', { type: 'button', className: 'button', text: view.close });
    cancel.addEventListener('click', function () {
      dismissed.add(view.id);
      renderView(container, user);
    });
    submit.addEventListener('click', function () {
      var reason = inputs.filter(function (input) { return input.actionId === 'reason'; })[0];
      act([submit, cancel], function () {
        return api('submit', { userId: user.id, viewId: view.id, reason: reason ? reason.node.value : '' }).then(function (answer) {
          if (answer && answer.status !== 200) showError('The service answered the form with HTTP ' + answer.status + '.');
        });
      });
    });
    container.appendChild(el('div', { className: 'modal', role: 'dialog', 'aria-labelledby': titleId, 'data-view-id': view.id }, [
      el('div', { className: 'modal-head' }, [el('h3', { id: titleId, text: view.title })]),
      body,
      el('div', { className: 'modal-foot' }, [cancel, submit])
    ]));
    var focusTarget = inputs[0] ? inputs[0].node : null;
    if (hadFocus && focusTarget) {
      focusTarget.focus();
      if (selection) focusTarget.setSelectionRange(selection[0], selection[1]);
    }
  }

  function renderInput(view, block, inputs) {
    var element = isObject(block.element) ? block.element : {};
    var actionId = typeof element.action_id === 'string' ? element.action_id : 'value';
    var blockId = typeof block.block_id === 'string' ? block.block_id : actionId;
    var inputId = 'input-' + view.id + '-' + actionId;
    var draftKey = view.id + ':' + actionId;
    var error = view.errors && typeof view.errors[blockId] === 'string' ? view.errors[blockId] : null;
    var errorId = inputId + '-error';
    var hintId = inputId + '-hint';
    var node = el(element.multiline ? 'textarea' : 'input', {
      id: inputId,
      name: actionId,
      type: element.multiline ? null : 'text',
      placeholder: textOf(element.placeholder) || null,
      'aria-invalid': error ? 'true' : null,
      'aria-describedby': [error ? errorId : '', textOf(block.hint) ? hintId : ''].join(' ').trim() || null
    });
    node.value = drafts.get(draftKey) || '';
    node.addEventListener('input', function () { drafts.set(draftKey, node.value); });
    inputs.push({ actionId: actionId, node: node });
    return el('div', { className: 'input-block' }, [
      el('label', { for: inputId, text: emojiText(textOf(block.label)) }),
      node,
      textOf(block.hint) ? el('div', { id: hintId, className: 'input-hint', text: emojiText(textOf(block.hint)) }) : null,
      error ? el('div', { id: errorId, className: 'field-error', role: 'alert', text: error }) : null
    ]);
  }

  // --- The phone ---------------------------------------------------------------------------------

  function renderPhone(container, user) {
    clear(container);
    var screen = el('div', { className: 'phone-screen' }, [
      el('div', { className: 'phone-app' }, [el('span', { className: 'duo-mark', 'aria-hidden': 'true', text: '\u2713' }), 'Duo Mobile']),
      el('div', { className: 'phone-owner', text: user.realName + ' (' + user.name + ')' })
    ]);
    if (user.device === 'none') screen.appendChild(el('p', { className: 'empty', text: 'No phone enrolled in Duo: pushes cannot reach this person.' }));
    else if (user.pushes.length === 0) screen.appendChild(el('p', { className: 'empty', text: 'No login requests.' }));
    user.pushes.forEach(function (push) { screen.appendChild(renderPush(push)); });
    container.appendChild(el('div', { className: 'phone', role: 'region', 'aria-label': user.realName + "'s phone" }, [
      el('div', { className: 'phone-notch', 'aria-hidden': 'true' }),
      screen
    ]));
  }

  function renderPush(push) {
    var details = el('dl');
    Object.keys(push.pushinfo).forEach(function (key) {
      details.appendChild(el('dt', { text: key }));
      details.appendChild(el('dd', { text: push.pushinfo[key] }));
    });
    var approve = el('button', { type: 'button', className: 'button primary', text: 'Approve' });
    var deny = el('button', { type: 'button', className: 'button danger', text: 'Deny' });
    var fraud = el('button', { type: 'button', className: 'button fraud', text: 'Report fraud' });
    var buttons = [approve, deny, fraud];
    [[approve, 'allow'], [deny, 'deny'], [fraud, 'fraud']].forEach(function (pair) {
      pair[0].addEventListener('click', function () {
        act(buttons, function () { return api('push', { txid: push.txid, answer: pair[1] }); });
      });
    });
    return el('div', { className: 'push', role: 'group', 'aria-label': 'Duo push', 'data-txid': push.txid }, [
      el('h4', { text: push.type || 'Login request' }),
      el('div', { className: 'phone-owner', text: 'Requested at ' + timeText(push.createdAt) }),
      // The code the DM shows too, so the person can match this push to its question.
      push.pushinfo.code ? el('p', { className: 'push-code', text: 'Code ' + push.pushinfo.code }) : null,
      details,
      el('div', { className: 'push-buttons' }, buttons)
    ]);
  }

  // --- Cards, channel and table ------------------------------------------------------------------

  function cardFor(user) {
    var existing = cards.get(user.id);
    if (existing) return existing;
    var host = byId('engineer-cards');
    if (cards.size === 0) clear(host);
    var titleId = 'engineer-' + user.id;
    var dm = el('div', { className: 'message-list' });
    var view = el('div', { className: 'view-slot' });
    var phone = el('div', { className: 'phone-slot' });
    var initials = user.realName.split(/\s+/).map(function (part) { return part.charAt(0); }).join('').slice(0, 2).toUpperCase();
    var card = el('section', { className: 'engineer', 'aria-labelledby': titleId, 'data-user': user.name }, [
      el('div', { className: 'engineer-head' }, [
        el('div', { className: 'avatar', 'aria-hidden': 'true', text: initials }),
        el('div', { className: 'who' }, [
          el('h3', { id: titleId, text: user.realName }),
          el('span', { className: 'login', text: '@' + user.name + ' \u00b7 Slack ' + user.id })
        ])
      ]),
      el('div', { className: 'engineer-body' }, [
        el('div', { className: 'dm' }, [el('p', { className: 'dm-title', text: 'Direct message with Vouch' }), view, dm]),
        phone
      ])
    ]);
    host.appendChild(card);
    var entry = { dm: dm, view: view, phone: phone };
    cards.set(user.id, entry);
    return entry;
  }

  /** Re-renders a section only when its data changed since the last render. */
  function patch(key, data, draw) {
    var json = JSON.stringify(data);
    if (rendered.get(key) === json) return;
    rendered.set(key, json);
    draw();
  }

  function renderUsers(users) {
    if (users.length === 0) patch('no-users', true, function () {
      clear(byId('engineer-cards'));
      byId('engineer-cards').appendChild(el('p', { className: 'empty', text: 'Nobody in the simulated Slack yet.' }));
    });
    users.forEach(function (user) {
      var card = cardFor(user);
      patch('dm:' + user.id, user.dm, function () { renderMessages(card.dm, user.dm, user.id, 'No messages yet.'); });
      var viewKey = { view: user.view, hidden: user.view ? dismissed.has(user.view.id) : false };
      patch('view:' + user.id, viewKey, function () { renderView(card.view, user); });
      patch('phone:' + user.id, { device: user.device, pushes: user.pushes }, function () { renderPhone(card.phone, user); });
    });
  }

  function renderAlerts(alerts) {
    var body = byId('alerts-body');
    clear(body);
    if (alerts.length === 0) {
      body.appendChild(el('tr', {}, [el('td', { colspan: '8', className: 'empty', text: 'No alerts yet: the service reads the demo log within a few seconds.' })]));
      return;
    }
    alerts.forEach(function (alert) {
      body.appendChild(el('tr', { 'data-alert-id': alert.id, 'data-status': alert.status }, [
        el('td', { text: dateTimeText(alert.occurredAt) }),
        el('td', { text: alert.owner === null ? 'system' : alert.owner }),
        el('td', { text: alert.host }),
        el('td', { className: 'command', text: alert.command }),
        el('td', { text: alert.rule }),
        el('td', {}, [el('span', { className: 'status status-' + alert.status, text: alert.status })]),
        el('td', { text: alert.escalationReason || '\u2014' }),
        el('td', { text: alert.secondFactor || '\u2014' })
      ]));
    });
  }

  function render(state) {
    renderUsers(state.users);
    patch('security', state.security, function () {
      renderMessages(byId('security-messages'), state.security, null, 'Nothing escalated yet.');
    });
    patch('alerts', state.alerts, function () { renderAlerts(state.alerts); });
  }

  // --- Polling -----------------------------------------------------------------------------------

  function refresh() {
    if (polling) { pollAgain = true; return Promise.resolve(); }
    polling = true;
    return api('state')
      .then(function (state) {
        if (offline) { offline = false; byId('toast').hidden = true; }
        render(state);
      })
      .catch(function (error) {
        if (!offline) showError('Lost contact with the service (' + error.message + '); still trying.');
        offline = true;
      })
      .then(function () {
        polling = false;
        if (pollAgain) { pollAgain = false; refresh(); }
      });
  }

  function loop() {
    refresh().then(function () { setTimeout(loop, POLL_MS); });
  }

  // --- The run form ------------------------------------------------------------------------------

  function setUpRunForm(demo) {
    var login = byId('run-login');
    var preset = byId('run-preset');
    demo.people.forEach(function (person) {
      var note = person.hasChat ? '' : ', no Slack account';
      login.appendChild(el('option', { value: person.login, text: person.name + ' (' + person.login + note + ')' }));
    });
    demo.presets.forEach(function (item, index) {
      preset.appendChild(el('option', { value: String(index), text: item.login + ' on ' + item.host + ': ' + item.command }));
    });
    preset.addEventListener('change', function () {
      var item = demo.presets[Number(preset.value)];
      if (preset.value === '' || !item) return;
      login.value = item.login;
      byId('run-command').value = item.command;
      byId('run-host').value = item.host;
      byId('run-root').checked = item.asRoot;
    });
    byId('run-command').addEventListener('input', function () { preset.value = ''; });
    byId('run-form').addEventListener('submit', function (event) {
      event.preventDefault();
      var status = byId('run-status');
      var button = byId('run-submit');
      var command = byId('run-command').value;
      if (command.trim() === '') {
        status.className = 'status-line error';
        status.textContent = 'Type a command line or pick a ready-made one first.';
        byId('run-command').focus();
        return;
      }
      button.disabled = true;
      api('run', { login: login.value, command: command, host: byId('run-host').value.trim() || undefined, asRoot: byId('run-root').checked })
        .then(function (answer) {
          status.className = 'status-line';
          status.textContent = 'Recorded: ' + answer.login + ' ran ' + answer.argv.length + ' word(s) on ' + answer.host + '. Vouch reads the audit log within a second or two.';
        })
        .catch(function (error) {
          status.className = 'status-line error';
          status.textContent = 'Not recorded: ' + error.message;
        })
        .then(function () { button.disabled = false; refresh(); });
    });
  }

  function start() {
    api('demo').then(setUpRunForm).catch(function (error) { showError('Could not load the demo cast: ' + error.message); });
    loop();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
`;
