// ECharts, only the parts the pages draw (built into the bundle; nothing is fetched at run time).

import { LineChart } from "echarts/charts";
import {
  DataZoomComponent,
  GridComponent,
  MarkAreaComponent,
  MarkLineComponent,
  MarkPointComponent,
  TooltipComponent,
  VisualMapComponent,
} from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer } from "echarts/renderers";

echarts.use([
  LineChart,
  GridComponent,
  TooltipComponent,
  DataZoomComponent,
  VisualMapComponent,
  MarkLineComponent,
  MarkPointComponent,
  MarkAreaComponent,
  CanvasRenderer,
]);

/** Draws `option` in `container` until the page is left (`signal`), following the window's size. */
export function draw(container, option, signal) {
  const chart = echarts.init(container, null, { renderer: "canvas" });
  chart.setOption(option);
  const resize = () => chart.resize();
  window.addEventListener("resize", resize);
  signal.addEventListener("abort", () => {
    window.removeEventListener("resize", resize);
    chart.dispose();
  });
  return chart;
}
