// The document view: the full text of /documents/{id} with the cited span highlighted.
// The question box stays on top: asking from here is a plain form GET to "/?q=...".
import { documentApiUrl, el, getJSON, hideNotice, highlighted, showNotice } from "./common.js";

function offset(params, name) {
  const raw = params.get(name);
  return raw !== null && /^\d+$/.test(raw) ? Number(raw) : null;
}

function safeLink(url) {
  // Only web links: a javascript: URL in article metadata must not become clickable.
  try {
    const parsed = new URL(url);
    if (parsed.protocol === "http:" || parsed.protocol === "https:") {
      return el("a", { href: parsed.href, rel: "noopener noreferrer" }, "original article");
    }
  } catch {
    // not a URL: show nothing
  }
  return null;
}

function render(doc, start, end) {
  document.title = `${doc.title} · News QA`;
  document.getElementById("doc-title").textContent = doc.title;
  const meta = [doc.source, doc.published, `doc ${doc.doc_id}`].filter(Boolean).join(" · ");
  const link = doc.url ? safeLink(doc.url) : null;
  document.getElementById("doc-meta").replaceChildren(meta, ...(link ? [" · ", link] : []));

  const note = document.getElementById("span-note");
  const spanOk = start !== null && end !== null && start < end && end <= doc.text.length;
  if (spanOk) {
    note.textContent = `The highlighted text is the citation: characters ${start}–${end}.`;
  } else if (start !== null || end !== null) {
    note.textContent = `The cited range ${start ?? "?"}–${end ?? "?"} is not in this document.`;
  }
  note.hidden = !note.textContent;
  const text = document.getElementById("doc-text");
  text.replaceChildren(highlighted(doc.text, start, end, { id: "cited", tabindex: "-1" }));
  document.getElementById("document").hidden = false;

  const mark = document.getElementById("cited");
  if (mark) {
    mark.scrollIntoView({ block: "center" });
    mark.focus({ preventScroll: true });
  }
}

export async function startView() {
  const params = new URLSearchParams(window.location.search);
  const docId = params.get("doc") || "";
  const question = params.get("q");
  if (question) {
    document.getElementById("q").value = question;
    document.getElementById("back").href = `/?${new URLSearchParams({ q: question })}`;
  }
  document.getElementById("back-line").hidden = false;
  if (!docId) {
    showNotice("error", "No document given: open this page from a citation.");
    return;
  }
  showNotice("loading", "Loading the document…");
  try {
    const doc = await getJSON(documentApiUrl(docId));
    hideNotice();
    render(doc, offset(params, "start"), offset(params, "end"));
  } catch (error) {
    showNotice("error", error.message);
  }
}
