/**
 * The chart beside latest.json, drawn with vega-lite (compiled to vega and
 * rendered to SVG headless, no canvas): throughput by concurrency per path,
 * one panel per runner, and latency against table size.
 */
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { PathRow } from './path-comparison.js';
import type { ScalingRow } from './scaling.js';

export async function chartSvg(paths: readonly PathRow[], scaling: readonly ScalingRow[]): Promise<string> {
  const throughput = paths.map((r) => ({ runner: r.runner === 'pgbench' ? 'pgbench (server floor)' : 'pg driver', path: r.path, concurrency: r.concurrency, opsPerSecond: r.opsPerSecond.median, min: r.opsPerSecond.min, max: r.opsPerSecond.max }));
  const latency = scaling.flatMap((r) => [
    { users: r.existingUsers, series: `${r.operation} p50`, ms: r.latencyMs.p50 },
    { users: r.existingUsers, series: `${r.operation} p99`, ms: r.latencyMs.p99 },
  ]);
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    config: { font: 'sans-serif', view: { stroke: '#ddd' } },
    vconcat: [
      {
        title: 'Throughput by concurrency (median over rounds; bars: spread)',
        data: { values: throughput },
        facet: { column: { field: 'runner', type: 'nominal', title: null } },
        spec: {
          width: 320,
          height: 260,
          layer: [
            {
              mark: { type: 'line', point: true },
              encoding: {
                x: { field: 'concurrency', type: 'ordinal', title: 'concurrent sessions' },
                y: { field: 'opsPerSecond', type: 'quantitative', title: 'operations / s' },
                color: { field: 'path', type: 'nominal', title: 'path', scale: { scheme: 'category20' } },
              },
            },
            {
              mark: { type: 'rule' },
              encoding: {
                x: { field: 'concurrency', type: 'ordinal' },
                y: { field: 'min', type: 'quantitative' },
                y2: { field: 'max' },
                color: { field: 'path', type: 'nominal' },
              },
            },
          ],
        },
      },
      {
        title: 'Latency against existing users (concurrency 1)',
        data: { values: latency },
        width: 320,
        height: 220,
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'users', type: 'quantitative', scale: { type: 'log' }, title: 'existing users' },
          y: { field: 'ms', type: 'quantitative', title: 'latency (ms)' },
          color: { field: 'series', type: 'nominal', title: null },
        },
      },
    ].slice(0, scaling.length > 0 ? 2 : 1),
  } as unknown as vl.TopLevelSpec;
  const compiled = vl.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  return view.toSVG();
}
