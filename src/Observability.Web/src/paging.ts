// "Load more" for the collector's paged lists (keyset cursors: `next` in the answer, `cursor` in the query).
//
// A list is a chain of pages read with one query: the time range is fixed when the chain starts, so "Load more"
// continues exactly where the last page ended. Auto-refresh starts a new chain (the range moves to now) and
// re-reads as many pages as are shown, so the list keeps its length and its rows stay current. A refresh that
// comes while a page is loading is skipped; the next tick catches up.
import type { Query } from "./api";
import { failure, h, replace, type Child } from "./dom";
import * as fmt from "./format";
import type { Route } from "./router";

export interface PageOf<T> { items: T[]; next?: string | null }

/** Reads one page of a chain: the first with no cursor, then each `next`; null when the list is not there at all (a 404). */
export type PageReader<P> = (cursor: string | undefined) => Promise<P | null>;

export interface PagedListSpec<T, P extends PageOf<T>> {
  /** Starts a chain: fixes the query (the time range up to now) and returns how to read its pages. */
  start: () => PageReader<P>;
  /** Identifies a row, so that a row seen twice (it moved between two reads) is shown once. */
  key: (item: T) => string;
  /** Draws the rows loaded so far; `more` (the count and the Load more button) goes where the list ends. */
  render: (items: T[], last: P, more: HTMLElement) => Child;
  /** What a row is, for "Showing 50 traces": singular and plural. */
  noun: [string, string];
  /** What to show when the first page is null (a failure group with no snapshot in the range). */
  missing?: () => Child;
}

export interface PagedList {
  element: HTMLElement;
  /** Reads the first page, or on a refresh as many pages as are shown. */
  load: () => Promise<void>;
}

// A Back to the list shows as many pages as were loaded (kept in history.state, not in the shared URL).
const STATE_KEY = "obs.pages";
const MAX_RESTORED_PAGES = 20;

function restoredPages(): number {
  const pages = (history.state as Record<string, unknown> | null)?.[STATE_KEY];
  return typeof pages === "number" && pages >= 1 ? Math.min(Math.floor(pages), MAX_RESTORED_PAGES) : 1;
}

function rememberPages(pages: number): void {
  history.replaceState({ ...(history.state as object | null ?? {}), [STATE_KEY]: pages }, "");
}

/** The page size of a list: ?limit= in the URL (kept by every form and picker), else the page's default. */
export function pageSize(route: Route, fallback: number): number {
  const asked = Number(route.query.get("limit"));
  return Number.isInteger(asked) && asked > 0 ? asked : fallback;
}

/** The query of a page: the chain's query with its cursor. */
export const withCursor = (q: Query, cursor: string | undefined): Query => (cursor ? { ...q, cursor } : q);

export function pagedList<T, P extends PageOf<T>>(spec: PagedListSpec<T, P>): PagedList {
  const element = h("div", { class: "paged" });
  const status = h("span", { class: "more-status", role: "status", "aria-live": "polite", tabindex: "-1" });
  const button = h("button", { type: "button", class: "load-more", "data-load-more": true }, "Load more");
  const more = h("div", { class: "more" }, status, button);
  let items: T[] = [];
  let last: P | null = null;
  let read: PageReader<P> | null = null;
  let pages = 0;
  let busy = false;

  const draw = () => {
    const hadFocus = document.activeElement === button || document.activeElement === status;
    if (last === null) { replace(element, spec.missing?.() ?? null); return; }
    const [one, many] = spec.noun;
    const noun = items.length === 1 ? one : many;
    const hasNext = Boolean(last.next);
    status.textContent = hasNext ? `Showing ${fmt.count(items.length)} ${noun}; there are more.`
      : pages > 1 ? `Showing all ${fmt.count(items.length)} ${noun}.` : "";
    button.hidden = !hasNext;
    more.hidden = !hasNext && pages <= 1;
    replace(element, spec.render(items, last, more));
    // Drawing again re-attaches the button: keep the keyboard where it was, or on the count once the list is whole.
    if (hadFocus) (hasNext ? button : status).focus();
  };

  const add = (into: T[], seen: Set<string>, page: P) => {
    for (const item of page.items) {
      const k = spec.key(item);
      if (!seen.has(k)) { seen.add(k); into.push(item); }
    }
  };

  const load = async () => {
    if (busy) return;
    busy = true;
    try {
      const reader = spec.start();
      const wanted = Math.max(pages, restoredPages());
      const rows: T[] = [];
      const seen = new Set<string>();
      let page: P | null = null;
      let count = 0;
      let cursor: string | undefined;
      do {
        page = await reader(cursor);
        if (page === null) break;
        add(rows, seen, page);
        count++;
        cursor = page.next ?? undefined;
      } while (cursor && count < wanted);
      items = rows; last = page; read = reader; pages = Math.max(count, 1);
    } finally {
      busy = false;
    }
    draw();
  };

  const loadMore = async () => {
    if (busy || !read || !last?.next) return;
    busy = true;
    // Not `disabled`: a disabled button loses the focus, and the keyboard would have to find it again.
    button.setAttribute("aria-disabled", "true");
    button.textContent = "Loading…";
    try {
      const page = await read(last.next);
      if (page !== null) {
        add(items, new Set(items.map(spec.key)), page);
        last = page;
        pages++;
      }
      rememberPages(pages);
      more.querySelector(".error-box")?.remove();
    } catch (e) {
      more.querySelector(".error-box")?.remove();
      more.append(failure(e));
    } finally {
      busy = false;
      button.removeAttribute("aria-disabled");
      button.textContent = "Load more";
    }
    draw();
  };

  button.addEventListener("click", () => void loadMore());
  return { element, load };
}

/** Every page of a list that is not shown as rows (a picker's options, a function's versions), up to `cap` items. */
export async function readAll<T>(read: (cursor: string | undefined) => Promise<PageOf<T>>, cap = 5000): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await read(cursor);
    items.push(...page.items);
    cursor = page.next ?? undefined;
  } while (cursor && items.length < cap);
  return items;
}
