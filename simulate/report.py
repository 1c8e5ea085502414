"""The simulation's report as data (report.json): what was measured, kept apart from what is extrapolated from
it, with the figures per dose, per site and per equipment that the extrapolation takes."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from simulate.extrapolate import Assumptions, Measured, extrapolate
from simulate.measure import CATEGORIES, COLD_CHAIN_TABLES, category, growth
from simulate.sensors import open_van_refusal_share

ROOT = Path(__file__).resolve().parent.parent
ORACLE_BENCH = ROOT / "bench" / "results" / "oracle.json"

TIME_COMPRESSION = {
    "zh": (
        "模拟时间按平台能承受的最快速度回放，而不是按真实时间。被模拟的日期都在过去（预言机拒收来自其“未来”的读数），"
        "另加一天预热（为辖区备货，不计入测量）。每个模拟小时开始时，链的时钟被设为该小时的起点（Anvil 的 evm_setTime，"
        "并出一个空块），小时内按墙钟秒数前进，所以疫苗有效期、预约时段、发货时间与温度读数的时间戳都在同一个模拟日历上。"
        "上一小时的温度读数在本小时开始时发布，等预言机全部入库、并把超温隔离写上链之后，才开始本小时的业务。"
    ),
    "en": (
        "Simulated time is replayed as fast as the platform takes it, not in real time. The simulated days lie in the "
        "past (the oracle refuses readings from its future), after one warm-up day that stocks the district and is "
        "not measured. At the start of each simulated hour the chain's clock is set to the hour (Anvil's "
        "evm_setTime, then an empty block); within the hour it runs at wall speed, so expiry dates, slots, shipment "
        "times and reading timestamps share one simulated calendar. The readings of the hour just past are published "
        "at the start of each hour, and the hour's work starts once the oracle has stored them and put any "
        "excursion's quarantine on chain."
    ),
}

WALL_CLOCK_PARTS = [
    (
        "预言机按墙钟判断传感器静默、升级告警、按墙钟间隔切批：读数每个模拟小时都到达，只要两小时之间的停顿不超过一分钟墙钟，"
        "就没有误报的静默告警（若有，只在链下，下一批读数到达即关闭）；失效传感器的静默告警时间是墙钟时间。",
        "The oracle judges silence, escalates alarms and cuts batches by the wall clock: readings arrive every "
        "simulated hour, so no live sensor goes silent unless the driver pauses a minute of wall time between hours "
        "(then the alarm is off chain only and closes with the next readings); the dead sensor's silence alarm "
        "carries a wall-clock time.",
    ),
    (
        "后端拒绝开始时间早于其墙钟的预约时段（supply.publish_slot）：模拟的日期在过去，所以所有时段都顺延整数天发布"
        "（见下方“时段顺延天数”）；链上只要求时段在出块时间之后，预约与接种不受影响，但时段的日期不在模拟日历上。",
        "The backend refuses a slot starting before its wall clock (supply.publish_slot): the simulated days lie in "
        "the past, so every slot is published a whole number of days later (the slot shift below); the chain only "
        "wants a slot after the block's time, so booking and doses work, but slots' dates are off the simulated "
        "calendar.",
    ),
    (
        "访问令牌有效期按墙钟计：模拟把它设为一天，客户端不必在回放中反复刷新。学校查验按墙钟的“今天”评估儿童。",
        "Access tokens expire by the wall clock: the run sets them to a day. School checks evaluate a child as of the "
        "wall clock's today.",
    ),
    (
        "预言机每个设备满 12 条读数（5 分钟一条，一小时）切一批，每次链循环（约 1 秒墙钟）把已切的批锚定为一个窗口："
        "回放中一个窗口可能包含几个模拟小时的批，交易基础费用被更多批分摊；外推按生产的每小时一个窗口计。",
        "The oracle cuts an equipment's batch at 12 readings (an hour at 5 min) and anchors whatever batches are cut "
        "each time its chain loop runs (about a second of wall time): a window in the replay may hold several "
        "simulated hours, sharing the 21,000-gas base among more batches; the extrapolation counts production's "
        "one window per district hour.",
    ),
]

GAPS = [
    (
        "judge_trip 以整段记录的最高值判定：一次开门使一条 5 分钟读数超过 8 °C，整车每一批都被拒收并报废。"
        "按 oracle/simulator.py "
        "自带的车辆模型（记录仪在车厢空气中），下方给出一小时行程被拒收的比例；本模拟假设记录仪放在保温箱内（开门升温约半小时）。",
        "judge_trip refuses a delivery on the record's single highest reading: one door opening that lifts one "
        "5-minute reading above +8 °C refuses and writes off every delivery in the van. Below: the share of one-hour "
        "trips the oracle simulator's own van (its logger in the van's air) would have refused; this simulation "
        "puts the logger in the insulated box instead (a door opening warms it over half an hour).",
    ),
]


def _per(value: float, n: float) -> float | None:
    return value / n if n else None


def measured_figures(r: dict[str, Any]) -> Measured:
    """The per-unit figures the extrapolation takes, from the run."""
    days = len(r["days"]) or 1
    doses = sum(d["counts"].get("doses_given", 0) for d in r["days"])
    cats = r["tally"].by_category()
    shape = r["shape"]
    sites = len(shape.sites)
    equipment_days = r["loggers"] * days
    district_equipment = (
        len(shape.warehouse["equipment"]) + len(shape.manufacturers) + sum(len(s.equipment) for s in shape.all_sites)
    )
    state = growth(r["state_start"], r["state_end"])
    tables = table_growth(r)
    cold_db = sum(tables.get(t, 0) for t in COLD_CHAIN_TABLES)
    phases = r["dose_phases"]
    return Measured(
        care_txs_per_dose=_per(cats["care"]["txs"], doses) or 0.0,
        care_gas_per_dose=_per(cats["care"]["gas"], doses) or 0.0,
        supply_txs_per_site_day=cats["supply"]["txs"] / sites / days,
        supply_gas_per_site_day=cats["supply"]["gas"] / sites / days,
        cold_chain_gas_per_equipment_day=cats["cold_chain"]["gas"] / equipment_days,
        backend_cpu_s_per_dose=_per(phases["backend_cpu_s"], phases["doses"])
        or _per(r["cpu_s"].get("backend", 0.0), doses)
        or 0.0,
        oracle_cpu_s_per_reading=_per(r["cpu_s"].get("oracle", 0.0), r["readings"]) or 0.0,
        state_bytes_per_dose=_per(state["slot_bytes"], r["state_doses"]) or 0.0,
        history_bytes_per_dose=_per(cats["care"]["history_bytes"] + cats["supply"]["history_bytes"], doses) or 0.0,
        history_bytes_per_equipment_day=cats["cold_chain"]["history_bytes"] / equipment_days,
        db_bytes_per_dose=_per(sum(tables.values()) - cold_db, doses) or 0.0,
        db_bytes_per_equipment_day=cold_db / equipment_days,
        district_sites=len(shape.all_sites),
        district_equipment=district_equipment,
    )


def table_growth(r: dict[str, Any]) -> dict[str, int]:
    start, end = r["db_tables_start"], r["db_tables_end"]
    return {t: end.get(t, 0) - start.get(t, 0) for t in sorted(set(start) | set(end))}


def _oracle_capacity() -> float | None:
    try:
        return float(json.loads(ORACLE_BENCH.read_text())["readings_per_s"])
    except (OSError, ValueError, KeyError):
        return None


def build(r: dict[str, Any]) -> dict[str, Any]:
    s, period, shape, tally = r["settings"], r["period"], r["shape"], r["tally"]
    doses = sum(d["counts"].get("doses_given", 0) for d in r["days"])
    wall = r["wall_s"]
    ops = {op: o.as_dict() | {"category": category(op)} for op, o in sorted(tally.ops.items())}
    dose_ops = [o for op, o in tally.ops.items() if op.startswith("recordDose")]
    dose_gas = sum(o.gas for o in dose_ops)
    dose_txs = sum(o.count for o in dose_ops)
    state = growth(r["state_start"], r["state_end"])
    m = measured_figures(r)
    capacity = _oracle_capacity()
    assumptions = Assumptions(oracle_readings_per_s=capacity) if capacity else Assumptions()
    counts = r["counts"]
    deliveries = counts.get("deliveries_received", 0) + counts.get("deliveries_refused_on_receipt", 0)
    return {
        "title": "vaxledger 辖区模拟与容量报告 / district simulation and capacity report",
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "run": {
            "days": s.days,
            "scale": s.scale,
            "sites": len(shape.sites),
            "sites_in_district": len(shape.all_sites),
            "equipment_with_loggers": r["loggers"],
            "seed": s.seed,
            "first_day": period.start.isoformat(),
            "last_day": (period.start + timedelta(days=s.days - 1)).isoformat(),
            "database": r["database"],
            "threads": s.threads,
            "backend_workers": s.workers,
            "set_up_s": round(r["set_up_s"], 1),
            "wall_s": round(wall, 1),
            "machine": f"{os.cpu_count()} cores",
            "errors": r["errors"][:20],
        },
        "time_compression": {
            "zh": TIME_COMPRESSION["zh"],
            "en": TIME_COMPRESSION["en"],
            "wall_clock_parts": [{"zh": zh, "en": en} for zh, en in WALL_CLOCK_PARTS],
            "late_hours": r["late_hours"],
            "hours_oracle_writes_still_pending": r["slow_oracle_hours"],
        },
        "workload": {
            "counts": counts,
            "warmup_counts": r["warmup_counts"],
            "families": r["families"],
            "walk_in_persons": r["walk_ins"],
            "lots": r["lots"],
            "faults": [f.__dict__ for f in r["faults"]],
            "recalls": [x.__dict__ for x in r["recalls"]],
            "deliveries_refused_on_receipt_share": _per(counts.get("deliveries_refused_on_receipt", 0), deliveries),
            "open_van_refusal_share": open_van_refusal_share(),
        },
        "throughput": {
            "doses": doses,
            "doses_per_s": _round(_per(doses, wall), 2),
            "txs": tally.txs,
            "tx_per_s": _round(_per(tally.txs, wall), 2),
            "readings": r["readings"],
            "readings_per_s": _round(_per(r["readings"], wall), 1),
            "readings_ingest_per_s": _round(_per(r["readings"], r["readings_publish_s"] + r["readings_store_s"]), 1),
            "doses_per_s_in_dose_phases": _round(_per(r["dose_phases"]["doses"], r["dose_phases"]["seconds"]), 2),
            "note_en": "Rates over the measured wall time (every simulated hour, readings and waits included). "
            "readings_ingest_per_s: over the time spent publishing readings and waiting for the oracle to store "
            "them; doses_per_s_in_dose_phases: over the time the hours' doses took, the threads all posting doses.",
            "note_zh": "速率按测量期的墙钟时间计（含所有模拟小时、读数发布与等待）。"
            "readings_ingest_per_s 只计发布读数并等待入库的时间；"
            "doses_per_s_in_dose_phases 只计各小时接种阶段的时间。",
        },
        "gas": {
            "per_operation": ops,
            "by_category": tally.by_category(),
            "gas_per_dose": _round(_per(dose_gas, dose_txs), 1),
            "gas_per_dose_all_in": _round(_per(tally.gas, doses), 1),
            "total": tally.gas,
            "per_day": [{"day": d["day"], "date": d["date"], **d["gas_by_category"]} for d in r["days"]],
            "measured_as": "receipts' gasUsed of every transaction in the measured blocks, named by selector",
        },
        "chain_state": {
            "start": r["state_start"].as_dict(),
            "end": r["state_end"].as_dict(),
            "growth": state,
            "checkpoints": r["state_checkpoints"],
            "measured_through_day": r["state_checkpoints"][-1]["day"],
            "doses_then": r["state_doses"],
            "state_bytes_per_dose": _round(m.state_bytes_per_dose, 1),
            "history_bytes": tally.history_bytes(),
            "history_bytes_per_dose": _round(m.history_bytes_per_dose, 1),
            "history_bytes_per_equipment_day": _round(m.history_bytes_per_equipment_day, 1),
            "measured_as": "storage slots in anvil_dumpState × 32 bytes (values only; a client's trie adds keys and "
            "nodes); history: call data + event data and topics of the measured transactions",
        },
        "database": {
            "kind": r["database"],
            "start_bytes": r["db_start"],
            "end_bytes": r["db_end"],
            "growth_bytes": r["db_end"] - r["db_start"],
            "tables_growth_bytes": {t: n for t, n in table_growth(r).items() if n},
            "db_bytes_per_dose": _round(m.db_bytes_per_dose, 1),
            "db_bytes_per_equipment_day": _round(m.db_bytes_per_equipment_day, 1),
            "per_day": [{"day": d["day"], "date": d["date"], "bytes": d["db_bytes"]} for d in r["days"]],
            "measured_as": "bytes per table with its indexes (SQLite: dbstat, pages in use; PostgreSQL: "
            "pg_total_relation_size); per dose: every table but the cold chain's batches (per equipment-day); the "
            "file sizes (SQLite: file + WAL; PostgreSQL: pg_database_size) are shown as well",
        },
        "latency": r["latency"],
        "setup": {"latency": r["setup_latency"]},
        "cpu": {
            "seconds": {k: round(v, 1) for k, v in r["cpu_s"].items()},
            "backend_ms_per_dose": _round(1000 * m.backend_cpu_s_per_dose, 2),
            "backend_ms_per_dose_whole_run": _round(_per(1000 * r["cpu_s"].get("backend", 0.0), doses), 2),
            "oracle_us_per_reading": _round(1e6 * m.oracle_cpu_s_per_reading, 1),
        },
        "oracle": {k: r["oracle_status"][k] for k in ("readings", "batches", "windows", "anchoring", "alarms")},
        "checks": r["checks"],
        "extrapolation": extrapolate(m, assumptions),
        "gaps": [{"zh": zh, "en": en} for zh, en in GAPS],
        "days": r["days"],
        "categories": list(CATEGORIES),
    }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def write(report: dict[str, Any], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / "report.json"
    path.write_text(json.dumps(report, indent=1, ensure_ascii=False, default=str) + "\n")
    return path
