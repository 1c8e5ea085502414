"""The report as one self-contained HTML page (report.html), Chinese first with English beside it: inline CSS and
SVG charts, no script, no font, nothing fetched. Measured figures and the extrapolation are separate sections."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from simulate import svg

STYLE = """
body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;margin:2em auto;max-width:1000px;
color:#222;line-height:1.5;padding:0 1em}
h1{font-size:1.6em}h2{border-bottom:2px solid #2f6f9f;padding-bottom:.2em;margin-top:2em}
.en{color:#666;font-size:.92em}table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f0f4f8}
.t{text-align:left}.chart{width:100%;height:auto;font-size:11px}
.note{background:#fff8e6;border-left:4px solid #d9822b;padding:.5em 1em}
.extra{background:#f3eefa;border-left:4px solid #7a5ea8;padding:.5em 1em}
.ok{color:#2e7d32;font-weight:bold}.bad{color:#c62828;font-weight:bold}
"""

SECTIONS = (
    ("summary", "概要", "Summary"),
    ("time-compression", "时间压缩", "Time compression"),
    ("throughput", "吞吐量", "Throughput"),
    ("gas", "Gas 消耗", "Gas"),
    ("chain-state", "链上状态增长", "Chain state growth"),
    ("database", "数据库增长", "Database growth"),
    ("latency", "延迟", "Latency"),
    ("cpu", "CPU 占用", "CPU"),
    ("checks", "一致性检查", "Consistency checks"),
    ("extrapolation", "外推：全省与全国峰值日", "Extrapolation: a province and the national peak day"),
    ("gaps", "发现的平台问题", "Platform gaps found"),
    ("workload", "工作量", "Workload"),
)


def _n(value: Any, digits: int | None = None) -> str:
    """A number for a table: thousands separated; small fractions with two decimals (or `digits`)."""
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return escape(str(value))
    if digits is None:
        digits = 2 if isinstance(value, float) and abs(value) < 100 and value != int(value) else 0
    return f"{value:,.{digits}f}"


class Html(str):
    """Markup already escaped, for a table cell."""


def _cell(c: Any) -> str:
    if isinstance(c, Html):
        return c
    return escape(c) if isinstance(c, str) else _n(c)


def _table(head: list[str], rows: list[list[Any]], text: tuple[int, ...] = (0,)) -> str:
    """Numbers right-aligned, the columns in `text` left-aligned."""
    th = "".join(f"<th{' class=t' if i in text else ''}>{escape(h)}</th>" for i, h in enumerate(head))
    body = "".join(
        "<tr>" + "".join(f"<td{' class=t' if i in text else ''}>{_cell(c)}</td>" for i, c in enumerate(r)) + "</tr>"
        for r in rows
    )
    return f"<table><tr>{th}</tr>{body}</table>"


def _pair(zh: str, en: str) -> Html:
    return Html(f"{escape(zh)}<br><span class='en'>{escape(en)}</span>")


def _both(zh: str, en: str) -> str:
    return f"<p>{escape(zh)}<br><span class='en'>{escape(en)}</span></p>"


def _section(key: str, body: str) -> str:
    zh, en = next((z, e) for k, z, e in SECTIONS if k == key)
    return f"<section id='{key}'><h2>{escape(zh)} <span class='en'>{escape(en)}</span></h2>{body}</section>"


def render(r: dict[str, Any]) -> str:
    parts = [
        _summary(r),
        _time(r),
        _throughput(r),
        _gas(r),
        _state(r),
        _database(r),
        _latency(r),
        _cpu(r),
        _checks(r),
        _extrapolation(r),
        _gaps(r),
        _workload(r),
    ]
    return (
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>"
        f"<title>{escape(r['title'])}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(r['title'])}</h1>{''.join(parts)}</body></html>"
    )


def _summary(r: dict[str, Any]) -> str:
    run, t, g = r["run"], r["throughput"], r["gas"]
    rows = [
        ["模拟天数 simulated days", run["days"]],
        ["规模 scale", f"{run['scale']:g}"],
        ["接种点 sites (of the district's)", f"{run['sites']} / {run['sites_in_district']}"],
        ["日期 dates", f"{run['first_day']} – {run['last_day']}"],
        ["数据库 database", run["database"]],
        ["测量期墙钟 wall time measured (s)", run["wall_s"]],
        ["剂次 doses", t["doses"]],
        ["剂次/秒 doses/s", t["doses_per_s"]],
        ["交易/秒 tx/s", t["tx_per_s"]],
        ["读数/秒 readings/s", t["readings_per_s"]],
        ["每剂 gas（接种交易）gas per dose (dose transactions)", g["gas_per_dose"]],
        ["每剂链上状态字节 state bytes per dose", r["chain_state"]["state_bytes_per_dose"]],
        ["每剂数据库字节 database bytes per dose", r["database"]["db_bytes_per_dose"]],
    ]
    body = _both(
        "以下数字均为本次运行的实测值，外推部分单独列出并注明假设。",
        "Every figure in this section is measured in this run; the extrapolation is a separate section with its "
        "assumptions labelled.",
    )
    if run["errors"]:
        body += f"<p class='bad'>{len(run['errors'])} unexpected errors: {escape('; '.join(run['errors'][:3]))}</p>"
    return _section("summary", body + _table(["项目 item", "值 value"], rows))


def _time(r: dict[str, Any]) -> str:
    tc = r["time_compression"]
    items = "".join(
        f"<li>{escape(p['zh'])}<br><span class='en'>{escape(p['en'])}</span></li>" for p in tc["wall_clock_parts"]
    )
    counts = _table(
        ["项目 item", "值 value"],
        [
            ["链时钟已超过小时起点的小时数 hours the chain was already past", tc["late_hours"]],
            [
                "预言机链上写入仍在等待时继续的小时 hours continued with oracle writes pending",
                tc["hours_oracle_writes_still_pending"],
            ],
        ],
    )
    body = _both(tc["zh"], tc["en"]) + "<p>仍按墙钟运行的部分 / what still runs on the wall clock:</p>"
    return _section("time-compression", body + f"<ul>{items}</ul>{counts}")


def _throughput(r: dict[str, Any]) -> str:
    t = r["throughput"]
    rows = [
        ["剂次 doses", t["doses"], t["doses_per_s"]],
        ["交易 transactions", t["txs"], t["tx_per_s"]],
        ["温度读数 readings", t["readings"], t["readings_per_s"]],
        [
            "读数入库（仅发布与入库时间）readings, publishing and storing only",
            t["readings"],
            t["readings_ingest_per_s"],
        ],
        ["接种阶段 doses, dose phases only", t["doses"], t["doses_per_s_in_dose_phases"]],
    ]
    days = r["days"]
    chart = svg.columns(
        [d["date"][5:] for d in days], {"doses": [d["counts"].get("doses_given", 0) for d in days]}, "doses/day"
    )
    wall = svg.line([d["date"][5:] for d in days], [d["wall_s"] for d in days], "wall s / simulated day")
    return _section(
        "throughput",
        _both(t["note_zh"], t["note_en"]) + _table(["", "数量 count", "每秒 per s"], rows) + chart + wall,
    )


def _gas(r: dict[str, Any]) -> str:
    g = r["gas"]
    rows = [
        [op, o["category"], o["count"], o["gas_mean"], o["gas_min"], o["gas_max"], o["gas_total"]]
        for op, o in sorted(g["per_operation"].items(), key=lambda kv: -kv[1]["gas_total"])
    ]
    per_day = g["per_day"]
    chart = svg.columns(
        [d["date"][5:] for d in per_day], {c: [d[c]["gas"] for d in per_day] for c in r["categories"]}, "gas/day"
    )
    cats = _table(["类别 category", "交易 txs", "gas"], [[c, v["txs"], v["gas"]] for c, v in g["by_category"].items()])
    body = _both(
        f"每剂接种交易平均 {_n(g['gas_per_dose'], 1)} gas；全部交易除以剂次为 {_n(g['gas_per_dose_all_in'], 1)} gas。",
        f"Dose transactions average {_n(g['gas_per_dose'], 1)} gas; all transactions over doses: "
        f"{_n(g['gas_per_dose_all_in'], 1)} gas. Measured as: {g['measured_as']}.",
    )
    head = ["操作 operation", "类别 category", "次数 count", "平均 mean", "最小 min", "最大 max", "合计 total"]
    return _section("gas", body + cats + chart + _table(head, rows, text=(0, 1)))


def _state(r: dict[str, Any]) -> str:
    s = r["chain_state"]
    rows = [
        [name, s["start"]["slots"].get(name, 0), s["end"]["slots"].get(name, 0), n]
        for name, n in s["growth"]["slots"].items()
    ]
    rows.append(["全部账户 all accounts", s["start"]["all_slots"], s["end"]["all_slots"], s["growth"]["all_slots"]])
    points = s["checkpoints"]
    chart = svg.line(
        [f"d{p['day']}" for p in points], [p["all_slots"] * 32 for p in points], "state bytes (slots × 32)"
    )
    through = f"第 {s['measured_through_day']} 天末（{s['doses_then']:,} 剂）"
    body = _both(
        f"到{through}存储槽增长 {s['growth']['all_slots']:,} 个（{s['growth']['slot_bytes']:,} 字节），每剂 "
        f"{_n(s['state_bytes_per_dose'], 1)} 字节。交易与事件历史 {s['history_bytes']:,} 字节：接种与供应链每剂 "
        f"{_n(s['history_bytes_per_dose'], 1)} 字节，冷链每台设备每天 "
        f"{_n(s['history_bytes_per_equipment_day'], 1)} 字节。",
        f"By the end of day {s['measured_through_day']} ({s['doses_then']:,} doses) storage grew by "
        f"{s['growth']['all_slots']:,} slots ({s['growth']['slot_bytes']:,} bytes), {_n(s['state_bytes_per_dose'], 1)} "
        f"bytes a dose. History (call data, events): {s['history_bytes']:,} bytes; "
        f"{_n(s['history_bytes_per_dose'], 1)} a dose for care and supply, "
        f"{_n(s['history_bytes_per_equipment_day'], 1)} per equipment a day for the cold chain. Measured as: "
        f"{s['measured_as']}. anvil_dumpState (gzip, blocks included): {s['start']['dump_bytes']:,} → "
        f"{s['end']['dump_bytes']:,} bytes.",
    )
    return _section(
        "chain-state", body + _table(["合约 contract", "开始 start", "结束 end", "增长 growth"], rows) + chart
    )


def _database(r: dict[str, Any]) -> str:
    d = r["database"]
    chart = svg.line([x["date"][5:] for x in d["per_day"]], [x["bytes"] for x in d["per_day"]], "database bytes")
    body = _both(
        f"{d['kind']} 数据库文件从 {d['start_bytes']:,} 增至 {d['end_bytes']:,} 字节。按表计：每剂 "
        f"{_n(d['db_bytes_per_dose'], 1)} 字节（冷链批次表除外），冷链批次表每台设备每天 "
        f"{_n(d['db_bytes_per_equipment_day'], 1)} 字节。",
        f"The {d['kind']} database's files grew from {d['start_bytes']:,} to {d['end_bytes']:,} bytes. By table: "
        f"{_n(d['db_bytes_per_dose'], 1)} bytes a dose (all but the cold chain's batches), and "
        f"{_n(d['db_bytes_per_equipment_day'], 1)} bytes per equipment a day for those. "
        f"Measured as: {d['measured_as']}.",
    )
    tables = _table(
        ["表 table", "增长 growth (bytes)"],
        [[t, n] for t, n in sorted(d["tables_growth_bytes"].items(), key=lambda kv: -kv[1])],
    )
    return _section("database", body + chart + tables)


def _latency(r: dict[str, Any]) -> str:
    rows = [
        [
            op,
            v["count"],
            v["p50_ms"],
            v["p90_ms"],
            v["p99_ms"],
            v["max_ms"],
            ", ".join(f"{k} {n}" for k, n in v["outcomes"].items()),
        ]
        for op, v in r["latency"].items()
    ]
    head = ["接口调用 API call", "次数 count", "p50 ms", "p90 ms", "p99 ms", "max ms", "结果 outcomes"]
    body = _both(
        "客户端测得的每次 HTTP 调用时间（含上链与等待索引）。",
        "Each HTTP call timed by the client (chain write and indexing included).",
    )
    return _section("latency", body + _table(head, rows, text=(0, 6)))


def _cpu(r: dict[str, Any]) -> str:
    c = r["cpu"]
    rows = [[k, v] for k, v in c["seconds"].items()]
    body = _both(
        f"后端每剂 {_n(c['backend_ms_per_dose'], 2)} ms CPU（只计接种阶段）；全程所有请求计入剂次则为 "
        f"{_n(c['backend_ms_per_dose_whole_run'], 2)} ms（上限）。"
        f"预言机每条读数 {_n(c['oracle_us_per_reading'], 1)} µs。",
        f"Backend {_n(c['backend_ms_per_dose'], 2)} ms CPU a dose in the hours' dose phases; with every request of "
        f"the run counted against the doses, {_n(c['backend_ms_per_dose_whole_run'], 2)} ms (an upper bound). Oracle "
        f"{_n(c['oracle_us_per_reading'], 1)} µs a reading.",
    )
    return _section("cpu", body + _table(["进程 process", "CPU 秒 seconds"], rows))


def _checks(r: dict[str, Any]) -> str:
    c = r["checks"]

    def mark(ok: bool) -> Html:
        return Html("<span class='ok'>通过 pass</span>" if ok else "<span class='bad'>未通过 FAIL</span>")

    rows = [
        [
            "报告剂次 = 链上 DoseRecorded 事件 doses reported = DoseRecorded events",
            f"{c['doses_reported']:,} / {c['dose_events']:,}",
            mark(c["doses_match"]),
        ],
        ["每批次守恒 conservation per lot", f"{len(c['lots_unbalanced'])} unbalanced", mark(c["conservation_holds"])],
        [
            "后端视图 = 链 backend view = chain",
            f"{len(c['view_differences'])} differences",
            mark(c["view_matches_chain"]),
        ],
    ]
    detail = "".join(f"<li>{escape(x)}</li>" for x in [*c["lots_unbalanced"], *c["view_differences"]][:20])
    return _section(
        "checks", _table(["检查 check", "结果 result", ""], rows) + (f"<ul>{detail}</ul>" if detail else "")
    )


def _extrapolation(r: dict[str, Any]) -> str:
    x = r["extrapolation"]
    m = x["measured"]
    body = (
        "<p class='extra'>以下全部是外推，不是测量：以上面的实测值为输入，按下列标注的假设推算。<br>"
        "<span class='en'>Everything in this section is extrapolated, not measured: the measured figures above, "
        "carried by the labelled assumptions below.</span></p>"
    )
    body += "<h3>输入（实测）<span class='en'>Inputs (measured)</span></h3>" + _table(
        ["量 figure", "值 value"], [[k, v if isinstance(v, int) else f"{v:,.6g}"] for k, v in m.items()]
    )
    body += "<h3>假设 <span class='en'>Assumptions</span></h3>" + _table(
        ["假设 assumption", "值 value", "说明 what"],
        [[a["name"], f"{a['value']:,.6g}", _pair(a["label_zh"], a["label_en"])] for a in x["assumptions"]],
        text=(0, 2),
    )
    limit = next(a["value"] for a in x["assumptions"] if a["name"] == "target_utilisation")
    for s in x["scenarios"]:
        sc = s["scenario"]
        body += f"<h3>{escape(sc['label_zh'])} <span class='en'>{escape(sc['label_en'])}</span></h3>"
        body += _table(
            ["量 figure", "值 value"],
            [
                ["放大倍数（人口比）scale from the district", f"{s['scale_from_district']:,.1f}"],
                ["接种点 / 设备 sites / equipment", f"{s['sites']:,} / {s['equipment']:,}"],
                ["当日剂次 doses that day", f"{sc['doses_per_day']:,.0f}"],
                ["高峰小时剂次/秒 doses/s at the busiest hour", f"{s['doses_per_s_peak_hour']:,.1f}"],
                ["交易/秒 tx/s", f"{s['tx_per_s']:,.1f}"],
                ["gas/秒 gas/s", f"{s['gas_per_s']:,.0f}"],
                ["读数/秒 readings/s", f"{s['readings_per_s']:,.1f}"],
                ["每年链上状态 state a year (bytes)", f"{s['state_bytes_per_year']:,.0f}"],
                ["每年链上历史 history a year (bytes)", f"{s['history_bytes_per_year']:,.0f}"],
                ["每年数据库 database a year (bytes)", f"{s['db_bytes_per_year']:,.0f}"],
            ],
        )
        res = s["resources"]
        body += _table(
            ["资源 resource", "需要 required", "容量 capacity", "利用率 utilisation", "需要什么 what it needs"],
            [
                [
                    _pair(x["label_zh"], x["label_en"]),
                    f"{svg.human(x['required'])} {x['unit']}",
                    svg.human(x["capacity"]),
                    f"{x['utilisation']:.1%}",
                    _pair(x["need_zh"], x["need_en"]),
                ]
                for x in res
            ],
            text=(0, 4),
        )
        body += svg.utilisation([(x["label_en"], x["utilisation"]) for x in res], limit)
        body += _conclusion(s, limit)
    return _section("extrapolation", body)


def _conclusion(s: dict[str, Any], limit: float) -> str:
    res = {x["name"]: x for x in s["resources"]}
    first = res[s["first_to_run_out"]]
    chain = res[s["chain_first_to_run_out"]]
    if first["utilisation"] <= limit:
        zh = (
            f"在 {limit:.0%} 的规划利用率内没有资源用尽；"
            f"占用最高的是{first['label_zh']}（{first['utilisation']:.0%}）。"
        )
        en = (
            f"Nothing runs out at {limit:.0%} planned utilisation; the highest is {first['label_en']} at "
            f"{first['utilisation']:.0%}."
        )
    else:
        zh = f"最先用尽的是{first['label_zh']}（利用率 {first['utilisation']:.0%}），需要：{first['need_zh']}。"
        en = f"First to run out: {first['label_en']} at {first['utilisation']:.0%}; it needs {first['need_en']}."
    if s["chain_fits"]:
        zh += f"链本身最紧的是{chain['label_zh']}（{chain['utilisation']:.0%}），一条链可以承载。"
        en += f" On the chain the tightest is {chain['label_en']} at {chain['utilisation']:.0%}: one chain carries it."
    else:
        zh += (
            f"链本身最紧的是{chain['label_zh']}（{chain['utilisation']:.0%}），"
            f"一条链承载不了，需要：{chain['need_zh']}。"
        )
        en += (
            f" On the chain the tightest is {chain['label_en']} at {chain['utilisation']:.0%}: one chain does not "
            f"carry it; it needs {chain['need_en']}."
        )
    return f"<p class='note'>{escape(zh)}<br><span class='en'>{escape(en)}</span></p>"


def _gaps(r: dict[str, Any]) -> str:
    items = "".join(f"<li>{escape(g['zh'])}<br><span class='en'>{escape(g['en'])}</span></li>" for g in r["gaps"])
    w = r["workload"]
    share, van = w["deliveries_refused_on_receipt_share"], w["open_van_refusal_share"]
    run = f"{share:.1%}" if share is not None else "–"
    extra = _both(
        f"本次收货拒收比例：{run}；按模拟器自带车辆模型，一小时行程被拒收的比例：{van:.1%}。",
        f"Deliveries refused on receipt in this run: {run}; one-hour trips the simulator's own van would have "
        f"had refused: {van:.1%}.",
    )
    return _section("gaps", f"<ul>{items}</ul>{extra}")


def _workload(r: dict[str, Any]) -> str:
    w = r["workload"]
    rows = [[k, v] for k, v in sorted(w["counts"].items())]
    rows += [
        ["families (signed-up guardians)", w["families"]],
        ["walk-in persons", w["walk_in_persons"]],
        ["lots", w["lots"]],
    ]
    faults = _table(
        ["故障 fault", "接种点 site", "开始（小时）start h", "时长 h"],
        [[f["kind"], f["site"], f["start_h"], f["duration_h"]] for f in w["faults"]],
    )
    recalls = _table(
        ["召回 recall day", "小时 hour", "产品 product"], [[x["day"], x["hour"], x["product"]] for x in w["recalls"]]
    )
    return _section("workload", _table(["事件 event", "次数 count"], rows) + faults + recalls)


def write(report: dict[str, Any], out: Path) -> Path:
    path = out / "report.html"
    path.write_text(render(report))
    return path
