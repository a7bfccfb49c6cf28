/** Charts: uPlot for live series, an inline SVG for sparklines. */
import uPlot from "uplot";

const NS = "http://www.w3.org/2000/svg";

/** A sparkline of values (e.g. requests per minute), 100 × 24. */
export function sparkline(values: number[], label: string): SVGSVGElement {
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", "0 0 100 24");
  svg.setAttribute("class", "spark");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  const max = Math.max(1, ...values);
  const points = values.map(
    (v, i) =>
      `${((i / Math.max(1, values.length - 1)) * 100).toFixed(1)},${(22 - (v / max) * 20).toFixed(1)}`,
  );
  const line = document.createElementNS(NS, "polyline");
  line.setAttribute("points", points.join(" "));
  svg.appendChild(line);
  return svg;
}

const COLORS = ["#2563eb", "#db2777", "#059669", "#d97706", "#7c3aed", "#0891b2"];

export interface Series {
  label: string;
  values: (number | null)[];
  dash?: boolean;
}

/** A live line chart that is updated in place (no re-creation on each poll). */
export class LiveChart {
  #plot: uPlot | undefined;
  #labels = "";

  constructor(
    readonly container: HTMLElement,
    readonly title: string,
    readonly unit: string,
    /** Values with gaps (latency of seconds with no request): joined, with their points shown. */
    readonly sparse = false,
  ) {}

  update(times: number[], series: Series[]): void {
    const labels = series.map((s) => s.label).join("|");
    const data = [times.map((t) => t / 1000), ...series.map((s) => s.values)] as uPlot.AlignedData;
    if (this.#plot && labels === this.#labels) {
      this.#plot.setData(data);
      return;
    }
    this.#plot?.destroy();
    this.#labels = labels;
    // The plot fits inside the card's padding (clientWidth counts it), so nothing is cut at the right.
    const style = getComputedStyle(this.container);
    const inner =
      this.container.clientWidth -
      Number.parseFloat(style.paddingLeft) -
      Number.parseFloat(style.paddingRight);
    const width = Math.max(240, inner || 560);
    this.#plot = new uPlot(
      {
        title: this.title,
        width,
        height: 180,
        series: [
          {},
          ...series.map((s, i) => ({
            label: s.label,
            stroke: COLORS[i % COLORS.length]!,
            width: 2,
            spanGaps: this.sparse,
            points: { show: this.sparse, size: 4 },
            ...(s.dash ? { dash: [5, 3] } : {}),
            value: (_u: uPlot, v: number | null) =>
              v === null ? "–" : `${v.toFixed(v < 10 ? 2 : 0)}${this.unit}`,
          })),
        ],
        axes: [
          // Time labels a little further apart, so two never overlap on a narrow screen.
          { space: 70 },
          { values: (_u: uPlot, ticks: number[]) => ticks.map((v) => `${v}${this.unit}`), size: 60 },
        ],
        scales: { y: { range: (_u: uPlot, _min: number, max: number) => [0, Math.max(1, max * 1.1)] } },
        legend: { live: false },
      },
      data,
      this.container,
    );
  }

  destroy(): void {
    this.#plot?.destroy();
  }
}
