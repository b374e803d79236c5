// A tiny element builder: h("a", { href: "/ui/" }, "text", child). Strings become text nodes (never HTML),
// so values from the collector (span names, request bodies) cannot inject markup.
export type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") el.addEventListener(key.replace(/^on/, ""), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

/** A link inside the app: navigates without reloading (see router.ts). */
export function link(href: string, ...children: Child[]): HTMLAnchorElement {
  return h("a", { href, "data-nav": true }, ...children);
}

export function table(headers: (string | [string, string])[], rows: Child[][], attrs?: Attrs): HTMLTableElement {
  return h("table", attrs ?? null,
    h("thead", null, h("tr", null, headers.map(c => Array.isArray(c) ? h("th", { class: c[1], scope: "col" }, c[0]) : h("th", { scope: "col" }, c)))),
    h("tbody", null, rows.map(r => h("tr", null, r.map((cell, i) => h("td", { class: Array.isArray(headers[i]) ? headers[i][1] : null }, cell))))));
}

/** What to show when a list is empty: what it means and what to do next. */
export function empty(title: string, ...next: Child[]): HTMLElement {
  return h("div", { class: "empty", role: "status" }, h("h3", null, title), ...next);
}

export function section(title: string, ...children: Child[]): HTMLElement {
  return h("section", { class: "card" }, h("h2", null, title), ...children);
}

/** A load that failed, said in the page. */
export function failure(e: unknown): HTMLElement {
  const message = e instanceof Error ? e.message : String(e);
  return h("div", { class: "error-box", role: "alert" }, h("strong", null, "Could not load this. "), message);
}
