/**
 * The panel page's script (served as /panel.js, so the page's CSP can forbid inline script).
 * Plain browser JavaScript in a string: it renders the view embedded in the page, then each
 * snapshot from /api/events, and ticks the session timer and the rules age each second. Text
 * goes in through textContent only (names come from the network). The sim controls are built
 * once per set of names and updated in place, so keyboard focus survives each update.
 * The words come from words.ts: the same functions the LCD uses, their compiled source embedded.
 */
import { clockDuration, humanDuration, nameWords, stateWords } from './words.js';

const CLIENT = String.raw`
var $ = function (id) { return document.getElementById(id); };
var view = JSON.parse($('initial-view').textContent);
var skew = view.now - Date.now();
var connected = true;
var simKey = '';
var SVG = 'http://www.w3.org/2000/svg';

function agentNow() { return Date.now() + skew; }
function localTime(ms) { return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }); }
function setText(el, s) { if (el.textContent !== s) el.textContent = s; }
function cap(s) { return s.charAt(0).toUpperCase() + s.slice(1); }
function pill(el, words, tone) { setText(el, words); el.className = 'pill ' + tone; }

function stateTone(v) {
  if (v.state === 'held_open' || v.state === 'forced' || v.state === 'locked_out') return 'alarm';
  if (v.state === 'unlocked' || v.state === 'open' || v.state === 'in_use') return 'ok';
  return 'info';
}

function hint(v) {
  if (v.member) return (v.state === 'in_use' ? 'by ' : '') + v.member.name;
  if (v.state === 'idle') return 'tap your badge to start';
  if (v.state === 'locked') return 'tap your badge to open';
  if (v.state === 'locked_out') return 'out of use';
  return '';
}

function inputWords(name, active) {
  var n = name.toLowerCase();
  if (n.indexOf('door') >= 0) return active ? 'door open' : 'door closed';
  if (n.indexOf('stop') >= 0) return active ? 'E-STOP PRESSED' : 'e-stop released';
  if (n.indexOf('exit') >= 0 || n.indexOf('button') >= 0) return nameWords(name) + (active ? ': pressed' : ': released');
  return nameWords(name) + (active ? ': active' : ': inactive');
}

function el(tag, attrs, ns) {
  var e = ns ? document.createElementNS(SVG, tag) : document.createElement(tag);
  for (var k in attrs) e.setAttribute(k, attrs[k]);
  return e;
}

var LED_COLOURS = { red: '#ff4d4d', green: '#3ddc84', yellow: '#ffd23f', amber: '#ffb020', blue: '#4da3ff', white: '#f4f4f4' };

/** A picture of one output: a LED, a buzzer, or a relay whose contact closes when energised. */
function outputPicture(o) {
  var svg = el('svg', { viewBox: '0 0 130 90', role: 'img' }, true);
  var n = o.name.toLowerCase();
  if (/led|light|lamp/.test(n)) {
    var colour = '#ffb020';
    for (var c in LED_COLOURS) if (n.indexOf(c) >= 0) colour = LED_COLOURS[c];
    if (o.on) svg.appendChild(el('circle', { cx: 65, cy: 42, r: 34, fill: colour, opacity: 0.25 }, true));
    svg.appendChild(el('circle', { cx: 65, cy: 42, r: 22, fill: o.on ? colour : '#2a2f36', stroke: '#55606c', 'stroke-width': 3 }, true));
    svg.appendChild(el('line', { x1: 57, y1: 64, x2: 57, y2: 88, stroke: '#8a939c', 'stroke-width': 3 }, true));
    svg.appendChild(el('line', { x1: 73, y1: 64, x2: 73, y2: 84, stroke: '#8a939c', 'stroke-width': 3 }, true));
  } else if (/buzz|beep|piezo|sound/.test(n)) {
    svg.appendChild(el('path', { d: 'M30 32 h16 l20 -16 v58 l-20 -16 h-16 z', fill: o.on ? '#ffd23f' : '#2a2f36', stroke: '#8a939c', 'stroke-width': 3 }, true));
    if (o.on) for (var i = 0; i < 3; i++) svg.appendChild(el('path', { d: 'M' + (76 + i * 12) + ' ' + (27 - i * 6) + ' q' + (12 + i * 4) + ' ' + (18 + i * 6) + ' 0 ' + (36 + i * 12), fill: 'none', stroke: '#ffd23f', 'stroke-width': 3 }, true));
  } else {
    var live = o.on ? '#3ddc84' : '#8a939c';
    svg.appendChild(el('rect', { x: 8, y: 22, width: 34, height: 46, rx: 4, fill: o.on ? '#1d4d33' : '#2a2f36', stroke: live, 'stroke-width': 3 }, true));
    svg.appendChild(el('path', { d: 'M14 34 h22 M14 45 h22 M14 56 h22', stroke: live, 'stroke-width': 2 }, true));
    svg.appendChild(el('line', { x1: 42, y1: 45, x2: 70, y2: 45, stroke: '#55606c', 'stroke-width': 2, 'stroke-dasharray': '4 3' }, true));
    svg.appendChild(el('circle', { cx: 72, cy: 62, r: 5, fill: live }, true));
    svg.appendChild(el('circle', { cx: 116, cy: 62, r: 5, fill: live }, true));
    svg.appendChild(el('line', { x1: 72, y1: 62, x2: o.on ? 116 : 108, y2: o.on ? 62 : 34, stroke: live, 'stroke-width': 5, 'stroke-linecap': 'round' }, true));
  }
  var t = el('title', {}, true);
  t.textContent = nameWords(o.name) + (o.on ? ' on' : ' off');
  svg.insertBefore(t, svg.firstChild);
  var fig = el('figure', {});
  var cap1 = el('figcaption', {});
  cap1.textContent = nameWords(o.name) + ': ' + (o.on ? 'ON' : 'off');
  fig.appendChild(svg);
  fig.appendChild(cap1);
  return fig;
}

function post(path, body) {
  var out = $('tap-result');
  return fetch(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
    .then(function (r) { return r.json(); })
    .then(function (r) {
      setText(out, r.message || r.error || '');
      out.className = 'tap-result ' + (r.ok ? 'ok' : 'deny');
    })
    .catch(function () { setText(out, 'the agent did not answer'); out.className = 'tap-result deny'; });
}

function buildSim(sim) {
  var cards = $('cards'), inputs = $('inputs');
  cards.textContent = '';
  inputs.textContent = '';
  sim.cards.forEach(function (c) {
    var b = el('button', { type: 'button' });
    b.textContent = c.label;
    b.addEventListener('click', function () { post('/api/sim/tap', { card: c.label }); });
    cards.appendChild(b);
  });
  sim.inputs.forEach(function (i) {
    var b = el('button', { type: 'button', 'data-input': i.name, 'aria-pressed': 'false' });
    b.addEventListener('click', function () {
      post('/api/sim/input', { name: i.name, active: b.getAttribute('aria-pressed') !== 'true' });
    });
    inputs.appendChild(b);
  });
}

function renderSim(sim) {
  $('sim').hidden = !sim;
  if (!sim) return;
  var key = JSON.stringify([sim.cards.map(function (c) { return c.label; }), sim.inputs.map(function (i) { return i.name; })]);
  if (key !== simKey) { buildSim(sim); simKey = key; }
  sim.inputs.forEach(function (i) {
    var b = document.querySelector('[data-input="' + CSS.escape(i.name) + '"]');
    if (!b) return;
    b.setAttribute('aria-pressed', String(i.active));
    setText(b, inputWords(i.name, i.active));
  });
  var outs = $('outputs');
  outs.textContent = '';
  sim.outputs.forEach(function (o) { outs.appendChild(outputPicture(o)); });
}

function render() {
  var v = view, now = agentNow();
  setText($('resource'), v.node.resource.name);
  document.title = v.node.resource.name + ' \u00b7 Keymesh';
  setText($('state-word'), cap(stateWords(v.state)));
  $('state').className = 'card state tone-' + stateTone(v);
  setText($('state-who'), hint(v));
  setText($('timer'), v.sessionStartedAt === null ? '' : clockDuration(now - v.sessionStartedAt));
  setText($('since'), v.sessionStartedAt === null ? '' : 'session since ' + localTime(v.sessionStartedAt));

  if (!connected) pill($('online'), 'agent not answering', 'bad');
  else pill($('online'), v.online ? 'online' : 'offline', v.online ? 'ok' : 'bad');
  if (v.rulesStale) pill($('rules'), 'rules stale', 'bad');
  else if (v.rulesFreshAt === null) pill($('rules'), 'rules never synced', 'warn');
  else pill($('rules'), 'rules ' + humanDuration(now - v.rulesFreshAt) + ' old', now - v.rulesFreshAt > 3600000 ? 'warn' : 'ok');

  var alarms = $('alarms');
  alarms.hidden = v.alarms.length === 0;
  setText(alarms, v.alarms.length ? '\u26a0 ' + v.alarms.join(' \u00b7 ') : '');

  var d = v.lastDecision, box = $('decision');
  box.hidden = !d;
  if (d) {
    box.className = 'card decision ' + (d.allow ? 'allow' : 'deny');
    setText($('decision-head'), (d.allow ? '\u2714 Allowed' : '\u2716 Denied') + (d.member ? ' \u00b7 ' + d.member : '') + ' \u00b7 ' + localTime(d.at));
    setText($('decision-why'), cap(d.message));
  }
  var m = v.lastMessage, msg = $('message');
  msg.hidden = !m;
  if (m) { msg.className = 'card message tone-' + m.tone; setText(msg, m.text + ' (' + localTime(m.at) + ')'); }

  setText($('node'), v.node.name + ' \u00b7 ' + v.node.kind + ' \u00b7 key ' + v.node.key);
  renderSim(v.sim);
}

$('uid-form').addEventListener('submit', function (e) {
  e.preventDefault();
  var field = $('uid');
  var uid = field.value.trim();
  field.value = '';
  if (uid) post('/api/sim/tap', { uid: uid });
});

var es = new EventSource('/api/events');
es.addEventListener('snapshot', function (e) {
  view = JSON.parse(e.data);
  skew = view.now - Date.now();
  connected = true;
  render();
});
es.onopen = function () { connected = true; render(); };
es.onerror = function () { connected = false; render(); };
setInterval(render, 1000);
render();
`;

export const PANEL_SCRIPT = `'use strict';
(function () {
${[humanDuration, clockDuration, stateWords, nameWords].map((f) => f.toString()).join('\n')}
${CLIENT}
})();
`;
