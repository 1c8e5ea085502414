"""From what one simulated district measured to a province and to a national peak day: a pure function of the
measured figures and of labelled assumptions, nothing measured here.

Each scenario asks for a rate of doses at its busiest hour and the size of what it keeps, then sets each
resource's need against its capacity. The chain's two limits (transactions a second, gas a second) are shared by
every site on one chain; the backend, the oracle and the database grow by adding machines, so for them the
answer is how many. The resource with the highest need-to-capacity ratio is the one that runs out first."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from devnet.besu.qbft import DEFAULT_GAS_LIMIT

DAY_S = 86_400
HOUR_S = 3_600


@dataclass(frozen=True)
class Measured:
    """Per-unit figures from the simulated district (simulate/report.py derives them from the run)."""

    care_txs_per_dose: float
    """Dose, booking, cancellation and adverse-event transactions per dose given."""
    care_gas_per_dose: float
    supply_txs_per_site_day: float
    """Lots, releases, deliveries, receipts, write-offs, disposals, slots: per site per day."""
    supply_gas_per_site_day: float
    cold_chain_gas_per_equipment_day: float
    """Anchoring windows and excursion reports, per piece of equipment per day."""
    backend_cpu_s_per_dose: float
    """The backend's CPU while the hours' doses were posted, per dose given."""
    oracle_cpu_s_per_reading: float
    state_bytes_per_dose: float
    """Storage slots the run added (all contracts) × 32 bytes, per dose."""
    history_bytes_per_dose: float
    """Call data and events of the care and supply transactions, per dose."""
    history_bytes_per_equipment_day: float
    """Call data and events of the cold chain's transactions."""
    db_bytes_per_dose: float
    """Database growth but the cold chain's tables, per dose."""
    db_bytes_per_equipment_day: float
    """The cold chain's tables' growth (a row per anchored batch)."""
    district_sites: int
    district_equipment: int


@dataclass(frozen=True)
class Assumptions:
    """Every number the extrapolation takes that the run did not measure. `LABELS` says what each is and where
    it comes from; the report prints them beside the results."""

    district_population: float = 1.4e6
    district_doses_per_year: float = 750_000
    province_population: float = 126e6
    national_population: float = 1_410e6
    national_peak_doses_per_day: float = 20e6
    working_hours: float = 8
    campaign_hours: float = 12
    peak_hour_factor: float = 1.5
    busiest_day_factor: float = 2.0
    chain_tx_per_s: float = 750
    chain_tx_per_s_high: float = 1_200
    block_gas_limit: float = DEFAULT_GAS_LIMIT
    block_period_s: float = 2
    target_utilisation: float = 0.6
    cores_per_host: int = 2
    retention_years: float = 6
    db_node_bytes: float = 2e12
    oracle_readings_per_s: float = 8_158
    reading_interval_s: float = 300
    windows_per_district_hour: float = 1
    pending_per_sender: float = 1_024


LABELS: dict[str, tuple[str, str]] = {
    "district_population": (
        "禅城区常住人口约 140 万",
        "Chancheng's population, about 1.4 million (the issue's figure)",
    ),
    "district_doses_per_year": ("禅城区每年约 75 万剂次", "Chancheng, about 750,000 doses a year (DOMAIN.md)"),
    "province_population": ("广东省人口约 1.26 亿", "Guangdong, about 126 million people"),
    "national_population": ("全国人口约 14.1 亿", "China, about 1,410 million people"),
    "national_peak_doses_per_day": (
        "2021 年全国单日峰值约 2000 万剂次",
        "China's 2021 peak: about 20 million doses in a day (DOMAIN.md)",
    ),
    "working_hours": ("接种点每天开放 8 小时", "sites vaccinate 8 hours a day"),
    "campaign_hours": ("全国高峰日接种 12 小时", "on the national peak day sites vaccinate 12 hours"),
    "peak_hour_factor": (
        "高峰小时为平均工作小时的 1.5 倍",
        "the busiest hour carries 1.5 times the average working hour",
    ),
    "busiest_day_factor": ("全年最忙的一天为日均的 2 倍", "a year's busiest day carries twice the average day"),
    "chain_tx_per_s": (
        "Besu QBFT 4 验证节点公开测得 750–1,200 tx/s，取下限",
        "Besu QBFT, 4 validators: 750-1,200 tx/s published; the low end is used",
    ),
    "chain_tx_per_s_high": ("同上，上限", "the same, high end"),
    "block_gas_limit": (
        "区块 gas 上限 1 亿（devnet/besu 生产配置）",
        "block gas limit 100 M (devnet/besu's production genesis)",
    ),
    "block_period_s": ("出块间隔 2 秒（devnet/besu 默认）", "block period 2 s (devnet/besu's default)"),
    "target_utilisation": ("各资源按 60% 利用率规划", "each resource planned at 60 % utilisation"),
    "cores_per_host": ("每台后端主机 2 核（与本机相同）", "2 cores per backend host (like this machine)"),
    "retention_years": (
        "记录保存至有效期后至少 5 年，按 6 年数据量计",
        "records kept 5 years past expiry: sized for 6 years",
    ),
    "db_node_bytes": ("每个 PostgreSQL 节点 2 TB", "2 TB per PostgreSQL node"),
    "oracle_readings_per_s": (
        "单个预言机进程 8,158 条/秒（bench/results/oracle.json）",
        "one oracle daemon takes 8,158 readings/s (bench/results/oracle.json)",
    ),
    "reading_interval_s": ("每台设备每 5 分钟一条读数", "a reading every 5 minutes per piece of equipment"),
    "pending_per_sender": (
        "Besu 交易池每个发送账户最多 1,024 笔待处理交易（devnet/besu 配置）",
        "Besu's pool holds at most 1,024 pending transactions per sender (devnet/besu's configuration)",
    ),
    "windows_per_district_hour": (
        "每个区的预言机每小时锚定一个窗口（生产默认）",
        "each district's oracle anchors one window an hour (production's default)",
    ),
}


@dataclass(frozen=True)
class Scenario:
    name: str
    label_zh: str
    label_en: str
    population: float
    doses_per_day: float
    """On the scenario's day."""
    doses_per_year: float
    hours: float
    """Vaccinating hours of that day."""


@dataclass
class Resource:
    name: str
    label_zh: str
    label_en: str
    unit: str
    required: float
    capacity: float
    need_zh: str = ""
    need_en: str = ""
    shared: bool = field(default=True)
    """One chain's limit (True), or machines added at will (False): the latter never 'run out', they cost."""

    @property
    def utilisation(self) -> float:
        return self.required / self.capacity if self.capacity else math.inf

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"utilisation": round(self.utilisation, 4)}


def scenarios(a: Assumptions) -> list[Scenario]:
    per_person = a.district_doses_per_year / a.district_population
    province_year = per_person * a.province_population
    return [
        Scenario(
            "province",
            "广东全省：常年最忙的一天",
            "Guangdong province: the busiest day of an ordinary year",
            a.province_population,
            province_year / 365 * a.busiest_day_factor,
            province_year,
            a.working_hours,
        ),
        Scenario(
            "national_peak",
            "全国单链：2021 年峰值日（2000 万剂次）",
            "China on one chain: the 2021 peak day (20 million doses)",
            a.national_population,
            a.national_peak_doses_per_day,
            per_person * a.national_population,
            a.campaign_hours,
        ),
    ]


def assess(m: Measured, a: Assumptions, s: Scenario) -> dict[str, Any]:
    ratio = s.population / a.district_population
    sites = m.district_sites * ratio
    equipment = m.district_equipment * ratio
    doses_per_s = s.doses_per_day * a.peak_hour_factor / (s.hours * HOUR_S)
    supply_per_s = m.supply_txs_per_site_day * sites / (a.working_hours * HOUR_S)
    cold_txs_per_s = a.windows_per_district_hour * ratio / HOUR_S
    tx_per_s = doses_per_s * m.care_txs_per_dose + supply_per_s + cold_txs_per_s
    gas_per_s = (
        doses_per_s * m.care_gas_per_dose
        + m.supply_gas_per_site_day * sites / (a.working_hours * HOUR_S)
        + m.cold_chain_gas_per_equipment_day * equipment / DAY_S
    )
    readings_per_s = equipment / a.reading_interval_s
    cores = doses_per_s * m.backend_cpu_s_per_dose
    equipment_days = equipment * 365
    db_per_year = s.doses_per_year * m.db_bytes_per_dose + equipment_days * m.db_bytes_per_equipment_day
    gas_capacity = a.block_gas_limit / a.block_period_s
    # Each site signs with its own custodial wallet: its pending transactions are its rate times a block period.
    pending = doses_per_s * m.care_txs_per_dose / sites * a.block_period_s
    resources = [
        Resource("chain_tx", "链上交易速率", "chain transactions a second", "tx/s", tx_per_s, a.chain_tx_per_s),
        Resource(
            "chain_gas",
            "链上 gas 速率（区块 gas 上限 ÷ 出块间隔）",
            "chain gas a second (block gas limit / period)",
            "gas/s",
            gas_per_s,
            gas_capacity,
        ),
        Resource(
            "backend_cpu",
            "后端 CPU（单台主机）",
            "backend CPU (one host)",
            "cores",
            cores,
            a.cores_per_host,
            shared=False,
        ),
        Resource(
            "sender_pool",
            "每个接种点账户的待处理交易",
            "pending transactions per site's account",
            "tx",
            pending,
            a.pending_per_sender,
            shared=False,
        ),
        Resource(
            "oracle_ingest",
            "预言机接收（单个进程）",
            "oracle ingest (one daemon)",
            "readings/s",
            readings_per_s,
            a.oracle_readings_per_s,
            shared=False,
        ),
        Resource(
            "database",
            f"数据库（{a.retention_years:g} 年数据量，单节点）",
            f"database ({a.retention_years:g} years kept, one node)",
            "bytes",
            db_per_year * a.retention_years,
            a.db_node_bytes,
            shared=False,
        ),
    ]
    for r in resources:
        _needs(r, a, gas_per_s)
    shared = [r for r in resources if r.shared]
    first = max(resources, key=lambda r: r.utilisation)
    return {
        "scenario": asdict(s),
        "scale_from_district": ratio,
        "sites": round(sites),
        "equipment": round(equipment),
        "doses_per_s_peak_hour": doses_per_s,
        "tx_per_s": tx_per_s,
        "gas_per_s": gas_per_s,
        "readings_per_s": readings_per_s,
        "oracle_cores": readings_per_s * m.oracle_cpu_s_per_reading,
        "state_bytes_per_year": s.doses_per_year * m.state_bytes_per_dose,
        "history_bytes_per_year": s.doses_per_year * m.history_bytes_per_dose
        + equipment_days * m.history_bytes_per_equipment_day,
        "db_bytes_per_year": db_per_year,
        "resources": [r.as_dict() for r in resources],
        "chain_tx_utilisation_high": tx_per_s / a.chain_tx_per_s_high,
        "first_to_run_out": first.name,
        "chain_first_to_run_out": max(shared, key=lambda r: r.utilisation).name,
        "chain_fits": all(r.utilisation <= a.target_utilisation for r in shared),
    }


def _needs(r: Resource, a: Assumptions, gas_per_s: float) -> None:
    """What the resource needs to carry the load at the target utilisation, in words (zh, en)."""
    units = max(1, math.ceil(r.required / (r.capacity * a.target_utilisation)))
    if r.name == "chain_gas":
        limit = gas_per_s * a.block_period_s / a.target_utilisation
        if units == 1:
            r.need_zh, r.need_en = "现有区块 gas 上限足够", "the block gas limit is enough"
            return
        r.need_zh = f"区块 gas 上限至少 {limit / 1e6:,.0f} M（{a.block_period_s:g} 秒出块），或分为 {units} 条链"
        r.need_en = (
            f"a block gas limit of at least {limit / 1e6:,.0f} M ({a.block_period_s:g} s blocks), or {units} chains"
        )
    elif r.name == "chain_tx":
        r.need_zh = f"{units} 条链（按省分片）" if units > 1 else "一条链足够"
        r.need_en = f"{units} chains (sharded by province)" if units > 1 else "one chain is enough"
    elif r.name == "backend_cpu":
        workers = math.ceil(r.required / a.target_utilisation)
        r.need_zh = f"约 {workers} 个后端进程（{units} 台 {a.cores_per_host} 核主机）"
        r.need_en = (
            f"about {workers} backend worker{'s' * (workers != 1)} ({units} host{'s' * (units != 1)} of "
            f"{a.cores_per_host} cores)"
        )
    elif r.name == "sender_pool":
        r.need_zh = "每个接种点一个托管账户足够" if units == 1 else f"每个接种点把发送分散到 {units} 个账户"
        r.need_en = "one custodial account per site is enough" if units == 1 else f"{units} sender accounts per site"
    elif r.name == "oracle_ingest":
        r.need_zh = f"{units} 个预言机进程" if units > 1 else "一个预言机进程足够"
        r.need_en = f"{units} oracle daemons" if units > 1 else "one oracle daemon is enough"
    else:
        r.need_zh = f"{units} 个数据库节点（分区）" if units > 1 else "一个数据库节点足够"
        r.need_en = f"{units} database nodes (partitioned)" if units > 1 else "one database node is enough"


def extrapolate(m: Measured, a: Assumptions | None = None) -> dict[str, Any]:
    a = a or Assumptions()
    return {
        "measured": asdict(m),
        "assumptions": [
            {"name": f.name, "value": getattr(a, f.name), "label_zh": LABELS[f.name][0], "label_en": LABELS[f.name][1]}
            for f in fields(a)
        ],
        "scenarios": [assess(m, a, s) for s in scenarios(a)],
    }
