// The All Runs trend chart: runs and failures per bucket as bars, P90 and P99 as lines.
import { $, ms, when } from './dom.js';

export function drawTrend(points) {
  const svg = $('chart');
  svg.replaceChildren();
  const max = Math.max(1, ...points.map((p) => p.runs));
  const width = 800 / Math.max(1, points.length);
  points.forEach((p, i) => {
    for (const [value, cls] of [[p.runs, 'bar'], [p.failed, 'bar failed']]) {
      const rect = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
      const height = (value / max) * 150;
      rect.setAttribute('x', i * width + 1); rect.setAttribute('width', Math.max(1, width - 2));
      rect.setAttribute('y', 160 - height); rect.setAttribute('height', height);
      rect.setAttribute('class', cls);
      const title = document.createElementNS('http://www.w3.org/2000/svg', 'title');
      title.textContent = `${when(p.bucketStart)}: ${p.runs} runs, ${p.failed} failed, P90 ${ms(p.p90Ms)}, P99 ${ms(p.p99Ms)}`;
      rect.append(title);
      svg.append(rect);
    }
  });
  // P90 and P99 as lines over the bars, on their own scale (the slowest P99 at the top).
  const slowest = Math.max(1, ...points.map((p) => p.p99Ms ?? 0));
  for (const [key, cls] of [['p90Ms', 'p90'], ['p99Ms', 'p99']]) {
    const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    line.setAttribute('class', cls);
    line.setAttribute('points', points.flatMap((p, i) => (p[key] == null ? [] : [`${i * width + width / 2},${160 - (p[key] / slowest) * 150}`])).join(' '));
    svg.append(line);
  }
  const hourly = points.length > 1 && new Date(points[1].bucketStart) - new Date(points[0].bucketStart) < 864e5;
  $('chart-caption').textContent = `${points.length} ${hourly ? 'hours' : 'days'}; bars: runs (grey) and failed (red); lines: P90 (blue) and P99 (dashed, up to ${ms(slowest)})`;
}
