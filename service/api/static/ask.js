// The ask page: question box -> GET /ask -> answer card (or "no answer") and ranked passages.
import { ApiError, el, getJSON, hideNotice, highlighted, showNotice, viewUrl } from "./common.js";

const PASSAGES = 5;

const form = document.getElementById("ask-form");
const input = document.getElementById("q");
const answerCard = document.getElementById("answer");
const noAnswerCard = document.getElementById("no-answer");
const passagesSection = document.getElementById("passages");
const passageList = document.getElementById("passage-list");

const sourceInput = document.getElementById("f-source");
const afterInput = document.getElementById("f-after");
const beforeInput = document.getElementById("f-before");
const recencyInput = document.getElementById("f-recency");

let inFlight = null;

/** The filters as GET parameters: the publishers (comma-separated in the box) each as a
 * repeated `source`, the dates and the recency preference; only those given. */
function filterParams() {
  const pairs = sourceInput.value.split(",").map((s) => s.trim()).filter(Boolean)
    .map((source) => ["source", source]);
  if (afterInput.value) pairs.push(["published_after", afterInput.value]);
  if (beforeInput.value) pairs.push(["published_before", beforeInput.value]);
  if (recencyInput.value !== "none") pairs.push(["recency", recencyInput.value]);
  return pairs;
}

/** Fill the filter boxes from the page's URL (a shared or earlier question's). */
function filtersFromUrl() {
  const params = new URLSearchParams(window.location.search);
  sourceInput.value = params.getAll("source").join(", ");
  afterInput.value = params.get("published_after") || "";
  beforeInput.value = params.get("published_before") || "";
  const recency = params.get("recency") || "none";
  recencyInput.value = [...recencyInput.options].some((o) => o.value === recency) ? recency : "none";
  document.getElementById("filters").open = filterParams().length > 0;
}

function clearResults() {
  document.getElementById("interpreted").hidden = true;
  answerCard.hidden = true;
  noAnswerCard.hidden = true;
  passagesSection.hidden = true;
  passageList.replaceChildren();
}

/** "Title — Publisher · 2024-03-12 · doc id · chars 10–42", the title linking to the
 * document view. */
function citationLine(citation, question) {
  const day = citation.published ? ` · ${citation.published.slice(0, 10)}` : "";
  return [
    el("a", { className: "cite-link", href: viewUrl(citation, question) }, citation.title),
    citation.source ? el("span", { className: "publisher" }, ` — ${citation.source}`) : null,
    el("span", { className: "where" },
      `${day} · ${citation.doc_id} · chars ${citation.start}–${citation.end}`),
  ];
}

/** "Also in: AP, MSN": the other outlets that ran the same story. */
function copiesLine(result) {
  if (!result.also_in.length) return null;
  const names = [...new Set(result.also_in.map((copy) => copy.source || copy.doc_id))];
  return el("p", { className: "also-in" }, `Also in: ${names.join(", ")}`);
}

function scoreBar(score) {
  const fill = el("span", { className: "fill" });
  // Setting a style property from script is allowed under the CSP; inline style attributes are not.
  fill.style.width = `${Math.round(Math.max(0, Math.min(1, score)) * 100)}%`;
  return el("span", { className: "score", title: `similarity ${score.toFixed(4)}` },
    el("span", { className: "bar", "aria-hidden": "true" }, fill),
    el("span", { className: "score-value" }, score.toFixed(2)));
}

function passageItem(result, question) {
  const { citation, highlight } = result;
  return el("li", { className: "card passage" },
    el("div", { className: "passage-head" },
      el("span", { className: "rank" }, String(result.rank)),
      el("p", { className: "cite" }, ...citationLine(citation, question)),
      scoreBar(result.score)),
    el("p", { className: "passage-text" },
      highlighted(result.text, highlight.start - citation.start, highlight.end - citation.start)),
    copiesLine(result));
}

function render(body) {
  const interpreted = document.getElementById("interpreted");
  const when = body.interpreted;
  interpreted.hidden = !when;
  interpreted.textContent = when
    ? `Read “${when.from}” as published ${when.published_after.slice(0, 10)} to ` +
      `${when.published_before.slice(0, 10)}: those articles rank higher.`
    : "";
  if (body.answer) {
    document.getElementById("asked").textContent = body.question;
    const parts = body.answer.parts;
    const several = parts.length > 1;
    // One sentence: a quote and its citation. Several parts (a deal's phases): a numbered
    // list of them, each quoted and cited, the answer sentence first.
    const text = document.getElementById("answer-text");
    const cite = document.getElementById("answer-cite");
    const list = document.getElementById("answer-parts");
    text.textContent = body.answer.text;
    cite.replaceChildren(...citationLine(body.answer.citation, body.question));
    list.replaceChildren(...(several ? parts : []).map((part) =>
      el("li", { className: "answer-part" },
        el("blockquote", {}, part.text),
        el("p", { className: "cite" }, ...citationLine(part.citation, body.question)))));
    text.hidden = several;
    cite.hidden = several;
    list.hidden = !several;
    document.getElementById("answer-confidence").textContent =
      `Confidence ${Math.round(body.answer.confidence * 100)}%: how often answers like this ` +
      "one hold the answer, measured on real news questions.";
    answerCard.hidden = false;
  } else {
    document.getElementById("asked-none").textContent = body.question;
    document.getElementById("no-answer-reason").textContent =
      body.reason || "No sentence in the articles answers this question well enough.";
    noAnswerCard.hidden = false;
  }
  document.getElementById("passages-heading").textContent =
    body.answer ? "Passages, best first" : "Closest passages, none answering well";
  passageList.replaceChildren(...body.passages.map((r) => passageItem(r, body.question)));
  passagesSection.hidden = body.passages.length === 0;
}

async function ask(question) {
  inFlight?.abort();
  const controller = new AbortController();
  inFlight = controller;
  clearResults();
  if (!question) {
    hideNotice();
    return;
  }
  showNotice("loading", "Searching the articles…");
  document.body.setAttribute("aria-busy", "true");
  const params = new URLSearchParams([["q", question], ["k", String(PASSAGES)], ...filterParams()]);
  try {
    const body = await getJSON(`/ask?${params}`, controller.signal);
    hideNotice();
    render(body);
  } catch (error) {
    if (error.name === "AbortError") return;
    const message = error instanceof ApiError && error.status === 503
      ? `Index not ready: ${error.message}` : error.message;
    showNotice("error", message);
  } finally {
    if (inFlight === controller) {
      inFlight = null;
      document.body.removeAttribute("aria-busy");
    }
  }
}

function questionInUrl() {
  return (new URLSearchParams(window.location.search).get("q") || "").trim();
}

function onSubmit(event) {
  event.preventDefault();
  const question = input.value.trim();
  if (!question) {
    input.focus();
    return;
  }
  const shown = new URLSearchParams([["q", question], ...filterParams()]);
  if (`?${shown}` !== window.location.search) {
    history.pushState(null, "", `/?${shown}`);
  }
  ask(question);
}

export function startAsk() {
  form.addEventListener("submit", onSubmit);
  // Back and forward move between earlier questions.
  window.addEventListener("popstate", () => {
    input.value = questionInUrl();
    filtersFromUrl();
    ask(input.value);
  });
  input.value = questionInUrl();
  filtersFromUrl();
  input.focus();
  if (input.value) ask(input.value);
}
