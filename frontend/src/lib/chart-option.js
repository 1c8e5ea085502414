// The ECharts option for one equipment's temperatures (GET /v1/cdc/coldchain/equipment/{id}/readings).
// The oracle downsamples to the lowest and the highest real reading of each time bucket, never an
// average; every point is drawn (no sampling here either), so a peak stays a peak. Readings outside the
// storage range are coloured, the range is drawn as two lines, and each alarm is a shaded span. Pure.

export const COLOURS = { inRange: "#166534", tooWarm: "#b91c1c", tooCold: "#1d4ed8", alarm: "rgba(185, 28, 28, 0.14)" };

export function temperatureOption(readings, { range = [2, 8], labels }) {
  const [low, high] = range;
  const end = readings.to_ms;
  return {
    animation: false,
    grid: { left: 48, right: 24, top: 32, bottom: 72 },
    tooltip: { trigger: "axis", valueFormatter: (v) => `${Number(v).toFixed(1)} °C` },
    xAxis: { type: "time", min: readings.from_ms, max: end },
    // The storage range stays in view, however far inside or outside it the readings are.
    yAxis: { type: "value", name: "°C", min: (v) => Math.floor(Math.min(v.min, low - 1)), max: (v) => Math.ceil(Math.max(v.max, high + 1)) },
    dataZoom: [{ type: "inside" }, { type: "slider", height: 24, bottom: 16 }],
    visualMap: {
      show: false,
      dimension: 1,
      pieces: [
        { gt: high, color: COLOURS.tooWarm },
        { lt: low, color: COLOURS.tooCold },
      ],
      outOfRange: { color: COLOURS.inRange },
    },
    series: [
      {
        type: "line",
        name: labels.temperature,
        data: readings.points.map((p) => [p.ts_ms, p.temp_c]),
        showSymbol: false,
        sampling: undefined,
        lineStyle: { width: 1.5 },
        markLine: {
          silent: true,
          symbol: "none",
          lineStyle: { type: "dashed", color: "#6b7280" },
          data: [
            { yAxis: low, name: labels.low, label: { position: "insideEndTop", formatter: `${labels.low} ${low} °C` } },
            { yAxis: high, name: labels.high, label: { position: "insideEndTop", formatter: `${labels.high} ${high} °C` } },
          ],
        },
        markPoint: readings.points.length
          ? { symbolSize: 36, data: [{ type: "max", name: labels.max }, { type: "min", name: labels.min }], label: { formatter: (p) => Number(p.value).toFixed(1) } }
          : undefined,
        markArea: {
          itemStyle: { color: COLOURS.alarm },
          data: readings.alarms.map((a) => [
            { xAxis: a.opened_at_ms, name: labels.alarm(a) },
            { xAxis: a.closed_at_ms ?? end },
          ]),
        },
      },
    ],
  };
}
