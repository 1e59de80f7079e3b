// Minimal SVG charts for the benchmark reports: horizontal bars on a log scale, and lines over a
// log-scaled x axis. No dependency; the output opens in any browser.
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];
const fmt = (v: number) => (v >= 1e3 ? `${(v / 1e3).toFixed(v >= 1e4 ? 0 : 1)}k` : v.toFixed(0));

/** Groups of labelled bars (e.g. one group per workload), log-scaled values. */
export function barChart(title: string, unit: string, groups: { name: string; bars: { label: string; value: number }[] }[]): string {
  const rowH = 18, left = 230, width = 900, plotW = width - left - 80;
  const values = groups.flatMap((g) => g.bars.map((b) => b.value)).filter((v) => v > 0);
  const lo = Math.floor(Math.log10(Math.min(...values))), hi = Math.ceil(Math.log10(Math.max(...values)));
  const x = (v: number) => left + ((Math.log10(v) - lo) / Math.max(1, hi - lo)) * plotW;
  const out: string[] = [];
  let y = 40;
  for (const g of groups) {
    out.push(`<text x="10" y="${y + 12}" font-weight="bold">${esc(g.name)}</text>`);
    y += 20;
    g.bars.forEach((b, i) => {
      out.push(`<text x="${left - 6}" y="${y + 13}" text-anchor="end">${esc(b.label)}</text>`,
        `<rect x="${left}" y="${y + 2}" width="${Math.max(1, x(b.value) - left).toFixed(1)}" height="${rowH - 4}" fill="${COLORS[i % COLORS.length]}"/>`,
        `<text x="${(x(b.value) + 4).toFixed(1)}" y="${y + 13}">${fmt(b.value)}</text>`);
      y += rowH;
    });
    y += 10;
  }
  const ticks: string[] = [];
  for (let p = lo; p <= hi; p++) {
    ticks.push(`<line x1="${x(10 ** p)}" x2="${x(10 ** p)}" y1="30" y2="${y}" stroke="#ddd"/>`,
      `<text x="${x(10 ** p)}" y="${y + 14}" text-anchor="middle">${fmt(10 ** p)}</text>`);
  }
  return svg(width, y + 40, title, [...ticks, ...out, `<text x="${left + plotW / 2}" y="${y + 32}" text-anchor="middle">${esc(unit)} (log scale)</text>`]);
}

/** One line per series over shared x values (log scale on both axes). */
export function lineChart(title: string, xLabel: string, yLabel: string, xs: number[], series: { name: string; ys: number[] }[]): string {
  const width = 720, height = 420, l = 80, r = 150, t = 40, b = 50;
  const all = series.flatMap((s) => s.ys).filter((v) => v > 0);
  const ylo = Math.floor(Math.log10(Math.min(...all))), yhi = Math.ceil(Math.log10(Math.max(...all)));
  const px = (i: number) => l + (Math.log(xs[i] / xs[0]) / Math.log(xs[xs.length - 1] / xs[0])) * (width - l - r);
  const py = (v: number) => height - b - ((Math.log10(v) - ylo) / Math.max(1, yhi - ylo)) * (height - t - b);
  const out: string[] = [];
  for (let p = ylo; p <= yhi; p++) out.push(`<line x1="${l}" x2="${width - r}" y1="${py(10 ** p)}" y2="${py(10 ** p)}" stroke="#ddd"/>`, `<text x="${l - 6}" y="${py(10 ** p) + 4}" text-anchor="end">${fmt(10 ** p)}</text>`);
  xs.forEach((v, i) => out.push(`<text x="${px(i)}" y="${height - b + 16}" text-anchor="middle">${v}</text>`));
  series.forEach((s, k) => {
    const c = COLORS[k % COLORS.length];
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${s.ys.map((v, i) => `${px(i).toFixed(1)},${py(v).toFixed(1)}`).join(' ')}"/>`,
      `<text x="${width - r + 8}" y="${t + 16 * k + 10}" fill="${c}">${esc(s.name)}</text>`);
  });
  out.push(`<text x="${(l + width - r) / 2}" y="${height - 12}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text x="16" y="${(t + height - b) / 2}" transform="rotate(-90 16 ${(t + height - b) / 2})" text-anchor="middle">${esc(yLabel)}</text>`);
  return svg(width, height, title, out);
}

function svg(w: number, h: number, title: string, body: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">\n` +
    `<rect width="100%" height="100%" fill="white"/><text x="10" y="20" font-size="15" font-weight="bold">${esc(title)}</text>\n${body.join('\n')}\n</svg>\n`;
}
