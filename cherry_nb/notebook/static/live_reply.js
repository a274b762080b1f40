// cherry_nb's live reply (an anywidget ES module; shipped in the package, nothing
// loaded from a CDN). The kernel sends only what is new, as custom messages
// {t: reply text, r: reasoning}; this module keeps the text per model and renders
// it as Markdown in JupyterLab's own Markdown classes, so it looks like the
// final output that replaces it. The renderer is deliberately small and escapes
// every character of HTML the model writes: it only ever emits its own tags.

const esc = (s) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const safeUrl = (u) => /^(https?:|mailto:|#)/i.test(u);

function inline(src) {
  const codes = [];
  let s = src.replace(/(`+)([^`]|[^`][\s\S]*?[^`])\1(?!`)/g, (_, _t, c) => {
    codes.push(`<code>${esc(c.trim())}</code>`);
    return `\u0000${codes.length - 1}\u0000`;
  });
  s = esc(s)
    .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (m, t, u) =>
      safeUrl(u) ? `<a href="${u}" target="_blank" rel="noopener noreferrer">${t}</a>` : m)
    .replace(/(\*\*|__)(?=\S)([\s\S]*?\S)\1/g, "<strong>$2</strong>")
    .replace(/(^|[^*\w])\*(?=[^\s*])([^*]*?[^\s*])\*(?![*\w])/g, "$1<em>$2</em>")
    .replace(/(^|[^_\w])_(?=[^\s_])([^_]*?[^\s_])_(?![_\w])/g, "$1<em>$2</em>")
    .replace(/~~(?=\S)([\s\S]*?\S)~~/g, "<del>$1</del>")
    .replace(/ {2,}\n/g, "<br>");
  return s.replace(/\u0000(\d+)\u0000/g, (_, i) => codes[+i]);
}

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)/;
const HEADING = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/;
const RULE = /^ {0,3}([-*_])(\s*\1){2,}\s*$/;
const ITEM = /^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$/;
const TABLE_SEP = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;
const startsBlock = (l) => FENCE.test(l) || HEADING.test(l) || RULE.test(l) || ITEM.test(l) || /^\s*>/.test(l);
const cells = (row) => row.trim().replace(/^\||\|$/g, "").split("|").map((c) => c.trim());

export function markdown(md) {
  const lines = md.replace(/\r\n?/g, "\n").split("\n");
  const out = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    let m;
    if (!line.trim()) {
      i++;
    } else if ((m = line.match(FENCE))) {
      const body = [];
      for (i++; i < lines.length && !lines[i].trim().startsWith(m[1]); i++) body.push(lines[i]);
      i++; // the closing fence (absent while it streams)
      const lang = m[2] ? ` class="language-${esc(m[2])}"` : "";
      out.push(`<pre><code${lang}>${esc(body.join("\n"))}</code></pre>`);
    } else if ((m = line.match(HEADING))) {
      out.push(`<h${m[1].length}>${inline(m[2])}</h${m[1].length}>`);
      i++;
    } else if (RULE.test(line)) {
      out.push("<hr>");
      i++;
    } else if (/^\s*>/.test(line)) {
      const quoted = [];
      for (; i < lines.length && /^\s*>/.test(lines[i]); i++) quoted.push(lines[i].replace(/^\s*> ?/, ""));
      out.push(`<blockquote>${markdown(quoted.join("\n"))}</blockquote>`);
    } else if (line.includes("|") && i + 1 < lines.length && TABLE_SEP.test(lines[i + 1])) {
      const head = cells(line);
      const aligns = cells(lines[i + 1]).map((c) =>
        c.startsWith(":") && c.endsWith(":") ? "center" : c.endsWith(":") ? "right" : c.startsWith(":") ? "left" : "");
      const td = (tag, c, k) => `<${tag}${aligns[k] ? ` style="text-align:${aligns[k]}"` : ""}>${inline(c)}</${tag}>`;
      const rows = [];
      for (i += 2; i < lines.length && lines[i].includes("|") && lines[i].trim(); i++) rows.push(cells(lines[i]));
      out.push(
        `<table><thead><tr>${head.map((c, k) => td("th", c, k)).join("")}</tr></thead><tbody>` +
          rows.map((r) => `<tr>${head.map((_, k) => td("td", r[k] ?? "", k)).join("")}</tr>`).join("") +
          "</tbody></table>");
    } else if ((m = line.match(ITEM))) {
      const indent = m[1].length;
      const ordered = /\d/.test(m[2]);
      const items = [];
      while (i < lines.length) {
        const l = lines[i];
        const it = l.match(ITEM);
        if (it && it[1].length <= indent) {
          items.push([it[3]]);
        } else if (l.trim() && /^\s/.test(l)) {
          items[items.length - 1].push(l.replace(/^\s{1,4}/, ""));
        } else if (!l.trim() && i + 1 < lines.length && /^\s+\S/.test(lines[i + 1])) {
          items[items.length - 1].push("");
        } else if (l.trim() && !startsBlock(l) && lines[i - 1].trim()) {
          items[items.length - 1].push(l); // a lazy continuation line
        } else break;
        i++;
      }
      const tag = ordered ? "ol" : "ul";
      const start = ordered && parseInt(m[2], 10) !== 1 ? ` start="${parseInt(m[2], 10)}"` : "";
      const li = (it) => (it.length === 1 ? inline(it[0]) : markdown(it.join("\n")));
      out.push(`<${tag}${start}>${items.map((it) => `<li>${li(it)}</li>`).join("")}</${tag}>`);
    } else {
      const para = [];
      for (; i < lines.length && lines[i].trim() && !(para.length && startsBlock(lines[i])); i++) para.push(lines[i]);
      out.push(`<p>${inline(para.join("\n"))}</p>`);
    }
  }
  return out.join("\n");
}

// Text per widget model, kept by `initialize` (which anywidget runs before it
// hands the model any message), so every view, however late, sees all of it.
// `gap` is the time between the last two batches: the kernel sends text in
// batches (a second apart on a slow stream), and each view reveals a batch word
// by word over about that long, so the reply flows instead of jumping.
const STATE = new Map();

function initialize({ model }) {
  const state = { text: "", think: "", gap: 0, last: 0, views: new Set() };
  STATE.set(model.get("key"), state);
  const onMessage = (msg) => {
    const now = performance.now();
    state.gap = state.last ? now - state.last : 0;
    state.last = now;
    if (msg.t) state.text += msg.t;
    if (msg.r) state.think += msg.r;
    for (const redraw of state.views) redraw();
  };
  model.on("msg:custom", onMessage);
  return () => {
    model.off("msg:custom", onMessage);
    STATE.delete(model.get("key"));
  };
}

// How much of `text` to show when the reveal has reached `at` (a fractional
// character): up to the end of the word there, so no word shows in part.
export function revealTo(text, at) {
  at = Math.ceil(at);
  const space = /\s/g;
  space.lastIndex = at;
  return at >= text.length || !space.exec(text) ? text.length : space.lastIndex - 1;
}

const FRAME_MS = 40; // the reveal redraws at most ~25 times a second

function render({ model, el }) {
  const state = STATE.get(model.get("key")) ?? { text: "", think: "", gap: 0, last: 0, views: new Set() };
  el.classList.add("cherry-live");
  el.innerHTML =
    '<div class="cherry-live-head"></div>' +
    '<details class="cherry-live-think" hidden><summary>Thinking…</summary>' +
    '<div class="cherry-live-think-body jp-RenderedHTMLCommon jp-RenderedMarkdown"></div></details>' +
    '<div class="cherry-live-body jp-RenderedHTMLCommon jp-RenderedMarkdown" data-mime-type="text/markdown"></div>';
  const [head, think, body] = el.children;
  let pending = 0;
  let shown = state.text.length; // a view opened late shows what came before at once
  let at = shown; // how far the reveal has got, in (fractional) characters
  let rate = 0; // characters a millisecond while a batch is revealed; 0: all at once
  let stepAt = 0; // when `at` last moved on
  let dirty = true;
  const draw = () => {
    dirty = false;
    head.textContent = model.get("header");
    think.hidden = !state.think;
    think.lastElementChild.innerHTML = markdown(state.think);
    body.innerHTML = markdown(state.text.slice(0, shown)) || "<p></p>";
    // The cursor goes at the end of the last block, where the next words will appear.
    let last = body;
    while (last.lastElementChild && /^(P|H[1-6]|UL|OL|LI|BLOCKQUOTE)$/.test(last.lastElementChild.tagName)) {
      last = last.lastElementChild;
    }
    last.insertAdjacentHTML("beforeend", '<span class="cherry-live-cursor">▍</span>');
  };
  const frame = (now) => {
    pending = 0;
    const target = state.text.length;
    if (rate <= 0) {
      at = target;
    } else if (now - stepAt >= FRAME_MS) {
      at = Math.min(target, at + rate * (now - stepAt));
      stepAt = now;
    }
    const next = revealTo(state.text, at);
    if (next !== shown) [shown, dirty] = [next, true];
    if (dirty) draw();
    if (shown < target) pending = requestAnimationFrame(frame);
  };
  // A new batch (or header): reveal what is not shown yet over the expected time to
  // the next batch — at once for the first text. At most one redraw per frame.
  const redraw = () => {
    const span = Math.min(state.gap, (model.get("reveal") || 1) * 1000);
    rate = span > 0 ? (state.text.length - at) / span : 0;
    dirty = true;
    if (!pending) {
      stepAt = performance.now() - FRAME_MS; // the first words show in the next frame
      pending = requestAnimationFrame(frame);
    }
  };
  state.views.add(redraw);
  model.on("change:header", redraw);
  draw();
  return () => {
    state.views.delete(redraw);
    model.off("change:header", redraw);
    if (pending) cancelAnimationFrame(pending);
  };
}

export default { initialize, render };
