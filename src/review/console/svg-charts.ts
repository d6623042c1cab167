/**
 * Server-rendered SVG charts: numbers become rectangles, labels text nodes, colours CSS classes
 * (the page's policy forbids inline style). No chart library, no script.
 */
import { plural } from '../../alerts/wording.js';
import { html, type Html } from './html.js';

export interface StackedSeries {
  /** CSS class suffix and legend label. */
  key: string;
  label: string;
}

export interface StackedBar {
  label: string;
  values: Record<string, number>;
}

const WIDTH = 640;
const HEIGHT = 200;
const AXIS = 24;

/** Vertical stacked bars (alerts per day by outcome), with a legend and a text summary for screen readers. */
export function stackedBarChart(options: { title: string; bars: readonly StackedBar[]; series: readonly StackedSeries[] }): Html {
  const { bars, series } = options;
  const totals = bars.map((bar) => series.reduce((sum, s) => sum + (bar.values[s.key] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const slot = (WIDTH - AXIS) / Math.max(1, bars.length);
  const barWidth = Math.max(1, slot * 0.8);
  const plotHeight = HEIGHT - AXIS;
  const rects = bars.map((bar, index) => {
    let y = plotHeight;
    const x = AXIS + index * slot + (slot - barWidth) / 2;
    const parts = series.map((s) => {
      const value = bar.values[s.key] ?? 0;
      if (value === 0) return html``;
      const height = (value / max) * (plotHeight - 8);
      y -= height;
      return html`<rect class="bar bar-${s.key}" x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${height.toFixed(1)}"><title>${bar.label}: ${value} ${s.label}</title></rect>`;
    });
    const showLabel = bars.length <= 10 || index % Math.ceil(bars.length / 8) === 0;
    return html`${parts}${showLabel ? html`<text class="axis-label" x="${(x + barWidth / 2).toFixed(1)}" y="${HEIGHT - 6}" text-anchor="middle">${bar.label.slice(5)}</text>` : ''}`;
  });
  const summary = `${options.title}: ${plural(totals.reduce((a, b) => a + b, 0), 'alert')} over ${plural(bars.length, 'day')}, at most ${max} in a day`;
  return html`<figure class="chart">
<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${summary}" class="chart-svg">
<text class="axis-label" x="2" y="12">${max}</text><line class="axis" x1="${AXIS}" y1="${plotHeight}" x2="${WIDTH}" y2="${plotHeight}"></line>
${rects}
</svg>
<figcaption class="legend">${series.map((s) => html`<span class="legend-item"><svg viewBox="0 0 10 10" class="swatch" aria-hidden="true"><rect class="bar bar-${s.key}" width="10" height="10"></rect></svg>${s.label}</span>`)}</figcaption>
</figure>`;
}

export interface BarRow {
  label: string;
  value: number;
  /** Optional link for the row's label. */
  href?: string;
}

/** Horizontal bars with the value written beside each (escalations by reason, noisiest rules). */
export function horizontalBars(rows: readonly BarRow[], options: { className?: string } = {}): Html {
  if (rows.length === 0) return html`<p class="empty">Nothing in this period.</p>`;
  const max = Math.max(1, ...rows.map((row) => row.value));
  return html`<ul class="hbars ${options.className ?? ''}">${rows.map(
    (row) => html`<li><span class="hbar-label">${row.href ? html`<a href="${row.href}">${row.label}</a>` : row.label}</span>
<svg viewBox="0 0 100 10" preserveAspectRatio="none" class="hbar" aria-hidden="true"><rect class="bar" width="${((row.value / max) * 100).toFixed(1)}" height="10"></rect></svg>
<span class="hbar-value">${row.value}</span></li>`,
  )}</ul>`;
}
