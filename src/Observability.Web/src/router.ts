// Client-side routes under /ui/ (the collector answers every such path with index.html, so deep links work).

export interface Route { page: string; params: string[]; query: URLSearchParams }

export const BASE = "/ui/";

export function current(): Route {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : "";
  const parts = path.split("/").filter(p => p.length > 0).map(decodeURIComponent);
  return { page: parts[0] ?? "functions", params: parts.slice(1), query: new URLSearchParams(location.search) };
}

export function href(path: string, query?: Record<string, string | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v) q.set(k, v);
  const s = q.toString();
  return BASE + path + (s ? `?${s}` : "");
}

let onChange: () => void = () => {};

export function navigate(url: string, replace = false): void {
  if (replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  onChange();
}

/** Links marked data-nav navigate in place; a modified click (new tab) is left to the browser. */
export function start(render: () => void): void {
  onChange = render;
  addEventListener("popstate", render);
  document.addEventListener("click", e => {
    const a = (e.target as Element | null)?.closest?.("a[data-nav]") as HTMLAnchorElement | null;
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(a.getAttribute("href")!);
  });
  render();
}
