export interface Series {
  name: string;
  /** [x, y] points, x ascending. */
  points: Array<[number, number]>;
  color: string;
  dashed?: boolean;
}

/**
 * A small line chart as SVG text: linear x, logarithmic y (latency percentiles span orders of magnitude).
 * No dependency: the bench writes the file next to its JSON.
 */
export function lineChart(title: string, xLabel: string, yLabel: string, series: Series[]): string {
  const width = 760;
  const height = 420;
  const margin = { left: 70, right: 190, top: 40, bottom: 50 };
  const xs = series.flatMap((s) => s.points.map(([x]) => x));
  const ys = series.flatMap((s) => s.points.map(([, y]) => Math.max(y, 0.01)));
  const [xMin, xMax] = [Math.min(...xs), Math.max(...xs)];
  const yMin = 10 ** Math.floor(Math.log10(Math.min(...ys)));
  const yMax = 10 ** Math.ceil(Math.log10(Math.max(...ys)));
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const x = (v: number) => margin.left + (xMax === xMin ? plotW / 2 : ((v - xMin) / (xMax - xMin)) * plotW);
  const y = (v: number) =>
    margin.top +
    plotH -
    ((Math.log10(Math.max(v, 0.01)) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2 - margin.right / 2}" y="22" text-anchor="middle" font-size="15">${escape(title)}</text>`,
  ];
  for (let decade = yMin; decade <= yMax; decade *= 10) {
    parts.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y(decade)}" y2="${y(decade)}" stroke="#e3e6eb"/>`,
      `<text x="${margin.left - 8}" y="${y(decade) + 4}" text-anchor="end">${decade >= 1 ? decade : decade.toFixed(2)}</text>`,
    );
  }
  for (const v of [...new Set(xs)]) {
    parts.push(
      `<line x1="${x(v)}" x2="${x(v)}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="#f0f2f5"/>`,
      `<text x="${x(v)}" y="${margin.top + plotH + 18}" text-anchor="middle">${v}</text>`,
    );
  }
  parts.push(
    `<text x="${margin.left + plotW / 2}" y="${height - 10}" text-anchor="middle">${escape(xLabel)}</text>`,
    `<text transform="translate(18 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escape(yLabel)}</text>`,
  );
  series.forEach((s, i) => {
    const d = s.points.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(' ');
    const dash = s.dashed ? ' stroke-dasharray="6 4"' : '';
    parts.push(`<polyline points="${d}" fill="none" stroke="${s.color}" stroke-width="2"${dash}/>`);
    for (const [px, py] of s.points) parts.push(`<circle cx="${x(px)}" cy="${y(py)}" r="3" fill="${s.color}"/>`);
    const ly = margin.top + 14 + i * 20;
    parts.push(
      `<line x1="${width - margin.right + 16}" x2="${width - margin.right + 46}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${dash}/>`,
      `<text x="${width - margin.right + 52}" y="${ly}">${escape(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
