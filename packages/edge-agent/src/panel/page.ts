/**
 * The panel page's HTML and CSS. The page is a frame that /panel.js fills from the view
 * embedded at the end (first paint without waiting for the stream) and then from
 * /api/events. Everything is served by the agent: no CDN, no web fonts (a door's kiosk may
 * reach nothing but the Pi). Dark, big type: it is read from a step away, at any width.
 */
import type { PanelView } from './view.js';

/** `<` and friends escaped so the JSON cannot close the script element it sits in. */
function jsonForHtml(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function panelPage(view: PanelView): string {
  const title = escapeHtml(`${view.node.resource.name} · Keymesh`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark">
<title>${title}</title>
<link rel="stylesheet" href="/panel.css">
<script src="/panel.js" defer></script>
</head>
<body>
<header class="top">
  <h1 id="resource">${escapeHtml(view.node.resource.name)}</h1>
  <div class="pills"><span id="online" class="pill"></span> <span id="rules" class="pill"></span></div>
</header>
<main>
  <section id="state" class="card state" aria-live="polite">
    <div id="state-word" class="state-word">…</div>
    <div id="state-who" class="state-who"></div>
    <div id="timer" class="timer" aria-label="session time"></div>
    <div id="since" class="since"></div>
  </section>
  <section id="alarms" class="card alarms" role="alert" hidden></section>
  <section id="decision" class="card decision" aria-live="polite" hidden>
    <div id="decision-head" class="decision-head"></div>
    <div id="decision-why" class="decision-why"></div>
  </section>
  <section id="message" class="card message" aria-live="polite" hidden></section>
  <section id="sim" class="card sim" hidden aria-label="simulated hardware">
    <h2>Sim hardware</h2>
    <div id="outputs" class="outputs"></div>
    <h3>Tap a badge</h3>
    <div id="cards" class="buttons"></div>
    <form id="uid-form" class="uid-form" autocomplete="off">
      <label for="uid">Card number (hex)</label>
      <input id="uid" name="uid" type="password" inputmode="text" spellcheck="false" maxlength="100" placeholder="04:a2:19:ff">
      <button type="submit">Tap</button>
    </form>
    <div id="tap-result" class="tap-result" aria-live="polite"></div>
    <h3>Inputs</h3>
    <div id="inputs" class="buttons"></div>
  </section>
</main>
<footer class="foot"><span id="node"></span></footer>
<script type="application/json" id="initial-view">${jsonForHtml(view)}</script>
</body>
</html>
`;
}

export const PANEL_CSS = `
:root { --bg:#111418; --card:#1b2027; --fg:#eef1f4; --dim:#9aa4ae; --ok:#1f9d55; --deny:#d64545; --warn:#e0a800; --info:#3b82f6; }
* { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; font-size: clamp(16px, 2.2vw + 8px, 24px); }
body { margin: 0; background: var(--bg); color: var(--fg); line-height: 1.3; }
.top { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: .5rem; padding: .75rem 1rem; }
h1 { margin: 0; font-size: 1.6rem; }
h2 { margin: 0 0 .5rem; font-size: 1.1rem; color: var(--dim); }
h3 { margin: 1rem 0 .4rem; font-size: .95rem; color: var(--dim); }
main { display: grid; gap: .75rem; padding: 0 1rem 1rem; max-width: 60rem; margin: 0 auto; }
.card { background: var(--card); border-radius: .6rem; padding: 1rem; }
[hidden] { display: none !important; }
.pill { display: inline-block; padding: .15rem .6rem; border-radius: 1rem; font-size: .8rem; background: #2a313a; color: var(--dim); }
.pill.ok { background: #12351f; color: #7ee2a8; }
.pill.bad { background: #451a1a; color: #ffb1b1; }
.pill.warn { background: #3d3210; color: #ffd970; }
.state { text-align: center; border-left: .5rem solid var(--dim); }
.state.tone-ok { border-color: var(--ok); }
.state.tone-deny, .state.tone-alarm { border-color: var(--deny); }
.state.tone-info { border-color: var(--info); }
.state-word { font-size: clamp(2.2rem, 9vw, 4.5rem); font-weight: 700; letter-spacing: .02em; }
.state-who { font-size: 1.3rem; margin-top: .25rem; }
.timer { font-size: 2.6rem; font-weight: 600; font-variant-numeric: tabular-nums; margin-top: .25rem; }
.since { color: var(--dim); font-size: .9rem; }
.alarms { background: #5a1616; font-size: 1.2rem; font-weight: 600; }
.alarms ul { margin: 0; padding-left: 1.2rem; }
.decision { border-left: .5rem solid var(--dim); }
.decision.allow { border-color: var(--ok); background: #14281c; }
.decision.deny { border-color: var(--deny); background: #2e1717; }
.decision-head { font-size: 1.3rem; font-weight: 700; }
.decision-why { margin-top: .25rem; color: var(--fg); }
.message.tone-ok { border-left: .5rem solid var(--ok); }
.message.tone-deny, .message.tone-alarm { border-left: .5rem solid var(--deny); }
.message.tone-info { border-left: .5rem solid var(--info); }
.buttons { display: flex; flex-wrap: wrap; gap: .5rem; }
button, input { font: inherit; color: inherit; }
button { background: #2f3844; border: 2px solid #44505e; border-radius: .5rem; padding: .5rem .9rem; min-height: 2.75rem; cursor: pointer; }
button:hover { background: #3a4552; }
button[aria-pressed="true"] { background: #5a4410; border-color: var(--warn); }
:focus-visible { outline: 3px solid #8ab4ff; outline-offset: 2px; }
.uid-form { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin-top: .75rem; }
.uid-form label { width: 100%; color: var(--dim); font-size: .9rem; }
.uid-form input { flex: 1 1 10rem; min-width: 0; background: #0d1013; border: 2px solid #44505e; border-radius: .5rem; padding: .5rem; }
.tap-result { min-height: 1.4em; margin-top: .5rem; font-weight: 600; }
.tap-result.ok { color: #7ee2a8; } .tap-result.deny { color: #ffb1b1; }
.outputs { display: flex; flex-wrap: wrap; gap: 1rem; }
.outputs figure { margin: 0; text-align: center; }
.outputs figcaption { font-size: .8rem; color: var(--dim); }
.outputs svg { width: 6.5rem; height: 4.5rem; display: block; }
.foot { padding: 0 1rem 1rem; color: var(--dim); font-size: .8rem; text-align: center; }
`;
