import "./style.css";
import { failure, h, replace } from "./dom";
import { current, href, start, navigate, type Route } from "./router";
import { functionsPage } from "./pages/functions";
import { tracesPage } from "./pages/traces";
import { tracePage } from "./pages/trace";
import { coldStartsPage } from "./pages/coldstarts";
import { failuresPage } from "./pages/failures";
import { snapshotPage } from "./pages/snapshot";

/** A page fills its element and may return a refresh that re-reads its data (auto-refresh calls it). */
export type Page = (root: HTMLElement, route: Route) => Promise<(() => Promise<void>) | void>;

const pages: Record<string, { title: string; nav?: string; render: (r: Route) => Page }> = {
  functions: { title: "Functions", nav: "functions", render: () => functionsPage },
  traces: { title: "Traces", nav: "traces", render: r => r.params.length > 0 ? tracePage : tracesPage },
  coldstarts: { title: "Cold starts", nav: "coldstarts", render: () => coldStartsPage },
  failures: { title: "Failures", nav: "failures", render: () => failuresPage },
  snapshots: { title: "Failure snapshot", nav: "failures", render: () => snapshotPage },
};
const navOrder = ["functions", "traces", "coldstarts", "failures"];
const REFRESH_MS = 15_000;

let paused = localStorage.getItem("obs.paused") === "true";
let refresh: (() => Promise<void>) | void;
let generation = 0;

const main = h("main", { id: "main", tabindex: "-1" });
const nav = h("nav", { "aria-label": "Pages" });
const pauseButton = h("button", { type: "button", class: "pause", title: "Pause or resume auto-refresh (p)", onclick: () => togglePause() });
const status = h("span", { class: "refresh-status", "aria-live": "polite" });

document.getElementById("app")!.append(
  h("a", { href: "#main", class: "skip" }, "Skip to content"),
  h("header", { class: "top" },
    h("a", { href: href(""), "data-nav": true, class: "brand" }, "obs"),
    nav,
    h("div", { class: "spacer" }),
    status, pauseButton,
    h("button", { type: "button", class: "help-button", title: "Keyboard shortcuts (?)", onclick: () => toggleHelp() }, "?")),
  main,
  help());

function renderNav(active: string | undefined): void {
  replace(nav, navOrder.map((key, i) => h("a", {
    href: href(key), "data-nav": true, "aria-current": key === active ? "page" : null, title: `${pages[key].title} (${i + 1})`,
  }, pages[key].title)));
}

function togglePause(): void {
  paused = !paused;
  localStorage.setItem("obs.paused", String(paused));
  renderPause();
}

function renderPause(): void {
  pauseButton.textContent = paused ? "Resume" : "Pause";
  pauseButton.setAttribute("aria-pressed", String(paused));
  status.textContent = paused ? "auto-refresh paused" : `auto-refresh every ${REFRESH_MS / 1000} s`;
}

async function render(): Promise<void> {
  const route = current();
  const entry = pages[route.page] ?? pages.functions;
  const mine = ++generation;
  renderNav(entry.nav);
  document.title = `${entry.title} · obs`;
  const root = h("div", { class: "page" });
  replace(main, root);
  refresh = undefined;
  try {
    const r = await entry.render(route)(root, route);
    if (mine === generation) refresh = r;
  } catch (e) {
    if (mine === generation) replace(root, failure(e));
  }
}


setInterval(async () => {
  // Not while the tab is hidden, paused, or the user is typing in a form.
  if (paused || document.hidden || !refresh || document.activeElement?.matches("input, select, textarea")) return;
  const mine = generation;
  try { await refresh(); status.textContent = `updated ${new Date().toLocaleTimeString()}`; }
  catch (e) { if (mine === generation) status.textContent = `refresh failed: ${e instanceof Error ? e.message : e}`; }
}, REFRESH_MS);

function help(): HTMLElement {
  const keys: [string, string][] = [["1 … 4", "Functions, Traces, Cold starts, Failures"], ["/", "search traces"], ["p", "pause or resume auto-refresh"],
    ["↑ ↓", "move between spans in a trace"], ["Enter", "open or close a span's details"], ["Esc", "close this help"]];
  return h("dialog", { id: "help", "aria-label": "Keyboard shortcuts" },
    h("h2", null, "Keyboard shortcuts"),
    h("dl", null, keys.map(([k, v]) => [h("dt", null, h("kbd", null, k)), h("dd", null, v)])),
    h("form", { method: "dialog" }, h("button", null, "Close")));
}

function toggleHelp(): void {
  const dialog = document.getElementById("help") as HTMLDialogElement;
  if (dialog.open) dialog.close(); else dialog.showModal();
}

document.addEventListener("keydown", e => {
  if (e.ctrlKey || e.metaKey || e.altKey || (e.target as Element).matches?.("input, select, textarea")) return;
  const index = "1234".indexOf(e.key);
  if (index >= 0) { navigate(href(navOrder[index])); e.preventDefault(); }
  else if (e.key === "/") {
    e.preventDefault();
    const search = document.querySelector<HTMLInputElement>("[data-search]");
    if (search) search.focus(); else { navigate(href("traces")); setTimeout(() => document.querySelector<HTMLInputElement>("[data-search]")?.focus(), 300); }
  } else if (e.key === "p") togglePause();
  else if (e.key === "?") toggleHelp();
});

renderPause();
start(() => void render());
