import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { h } from "./dom";

// Charts drawn by uPlot (bundled; nothing is fetched at run time). Each chart fits its container's width and
// follows it when the window is resized.

export const palette = ["#2563eb", "#d97706", "#059669", "#7c3aed", "#db2777", "#0891b2", "#65a30d", "#dc2626"];

function fit(container: HTMLElement, make: (width: number) => uPlot): HTMLElement {
  let chart: uPlot | null = null;
  const observer = new ResizeObserver(() => {
    const width = Math.max(240, container.clientWidth);
    if (!chart) chart = make(width);
    else if (Math.abs(chart.width - width) > 2) chart.setSize({ width, height: chart.height });
  });
  observer.observe(container);
  return container;
}

export interface Line { label: string; values: (number | null)[]; color: string; scale: string; format: (v: number) => string; dash?: number[] }

/** Lines over time (x in seconds since the epoch), with up to two y scales (left and right axes). */
export function timeChart(title: string, x: number[], lines: Line[], height = 220): HTMLElement {
  const container = h("div", { class: "chart", role: "img", "aria-label": title, "data-chart": title });
  const scales = [...new Set(lines.map(l => l.scale))];
  return fit(container, width => new uPlot({
    width, height, title,
    scales: Object.fromEntries([["x", { time: true }], ...scales.map(s => [s, { auto: true, range: (_u: uPlot, _min: number, max: number) => [0, max > 0 ? max * 1.1 : 1] as uPlot.Range.MinMax }])]),
    axes: [
      {},
      ...scales.map((s, i) => ({
        scale: s, side: i === 0 ? 3 : 1, grid: { show: i === 0 }, size: 64,
        values: (_u: uPlot, ticks: number[]) => ticks.map(t => lines.find(l => l.scale === s)!.format(t)),
      })),
    ],
    series: [{}, ...lines.map(l => ({
      label: l.label, scale: l.scale, stroke: l.color, width: 2, dash: l.dash, points: { show: true, size: 5 },
      value: (_u: uPlot, v: number | null) => v === null ? "–" : l.format(v),
    }))],
  }, [x, ...lines.map(l => l.values)] as uPlot.AlignedData, container));
}

/** A histogram: counts per bucket [edges[i], edges[i+1]). */
export function histogram(title: string, edges: number[], counts: number[], format: (v: number) => string, color = palette[0], height = 220): HTMLElement {
  const container = h("div", { class: "chart", role: "img", "aria-label": title, "data-chart": title });
  const mids = counts.map((_, i) => (edges[i] + edges[i + 1]) / 2);
  return fit(container, width => new uPlot({
    width, height, title,
    scales: { x: { time: false, range: () => [edges[0], edges[edges.length - 1]] }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
    axes: [{ values: (_u, ticks) => ticks.map(format) }, { size: 48 }],
    legend: { show: false },
    cursor: { points: { show: false } },
    series: [{}, {
      label: "cold starts", stroke: color, fill: color + "99", width: 1,
      paths: uPlot.paths.bars!({ size: [0.92, Infinity], align: 0 }), points: { show: false },
    }],
  }, [mids, counts], container));
}

/** One horizontal bar split into parts (for phase breakdowns): plain HTML, so each part has a readable label. */
export function stackedBar(parts: { label: string; value: number; color: string; text: string }[], scaleMax: number): HTMLElement {
  const total = parts.reduce((a, p) => a + p.value, 0);
  return h("div", { class: "stacked", role: "img", "aria-label": parts.map(p => `${p.label} ${p.text}`).join(", ") },
    parts.filter(p => p.value > 0).map(p => h("span", {
      class: "stacked-part", style: `width:${(100 * p.value / Math.max(scaleMax, total, 1e-9)).toFixed(3)}%;background:${p.color}`,
      title: `${p.label}: ${p.text}`,
    }, p.value / Math.max(scaleMax, 1e-9) > 0.08 ? p.text : "")));
}
