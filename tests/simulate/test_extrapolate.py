"""The extrapolation is arithmetic on labelled assumptions: checked here against numbers worked by hand.

District: 1,000,000 people, 730,000 doses a year (0.73 a person), 40 sites, 60 pieces of equipment.
Measured: 1.2 care transactions and 80,000 gas a dose; 0.9 supply transactions and 72,000 gas a site-day;
86,400 gas an equipment-day of cold chain; 0.02 CPU-s a dose; 100 state, 500 (+1,000 an equipment-day) history
and 2,000 (+10,000 an equipment-day) database bytes a dose.

Province, 100 M people (×100): 4,000 sites, 6,000 equipment; 73 M doses a year, its busiest day twice the
average, 400,000 doses. Busiest hour: 400,000 × 1.5 / (8 × 3,600) = 20.8333 doses/s.
  tx/s  = 20.8333 × 1.2 + 0.9 × 4,000 / 28,800 + 100 windows / 3,600 = 25 + 0.125 + 0.027778 = 25.152778
  gas/s = 20.8333 × 80,000 + 72,000 × 4,000 / 28,800 + 86,400 × 6,000 / 86,400 = 1,666,666.67 + 10,000 + 6,000
  cores = 20.8333 × 0.02 = 0.416667; readings/s = 6,000 / 300 = 20; a site's wallet has
  20.8333 × 1.2 / 4,000 tx/s × 2 s = 0.0125 transactions pending
  db a year = 73e6 × 2,000 + 6,000 × 365 × 10,000 = 167.9e9; six years 1.0074e12: a 1 TB node is full first.

National peak, 1,000 M people (×1,000): 7.2 M doses in 10 hours: 7.2e6 × 1.5 / 36,000 = 300 doses/s.
  gas/s = 300 × 80,000 + 72,000 × 40,000 / 28,800 + 86,400 × 60,000 / 86,400 = 24,160,000 (0.4832 of 50 M/s)
  tx/s  = 360 + 1.25 + 0.277778 = 361.527778; cores = 6 (12 workers at 50 %, 6 hosts of 2 cores)."""

from __future__ import annotations

import pytest

from simulate.extrapolate import Assumptions, Measured, extrapolate

A = Assumptions(
    district_population=1e6,
    district_doses_per_year=730_000,
    province_population=100e6,
    national_population=1_000e6,
    national_peak_doses_per_day=7.2e6,
    working_hours=8,
    campaign_hours=10,
    peak_hour_factor=1.5,
    busiest_day_factor=2,
    chain_tx_per_s=1_000,
    chain_tx_per_s_high=1_250,
    block_gas_limit=100e6,
    block_period_s=2,
    target_utilisation=0.5,
    cores_per_host=2,
    retention_years=6,
    db_node_bytes=1e12,
    oracle_readings_per_s=10_000,
    reading_interval_s=300,
    windows_per_district_hour=1,
    pending_per_sender=1_000,
)
M = Measured(
    care_txs_per_dose=1.2,
    care_gas_per_dose=80_000,
    supply_txs_per_site_day=0.9,
    supply_gas_per_site_day=72_000,
    cold_chain_gas_per_equipment_day=86_400,
    backend_cpu_s_per_dose=0.02,
    oracle_cpu_s_per_reading=0.0002,
    state_bytes_per_dose=100,
    history_bytes_per_dose=500,
    history_bytes_per_equipment_day=1_000,
    db_bytes_per_dose=2_000,
    db_bytes_per_equipment_day=10_000,
    district_sites=40,
    district_equipment=60,
)


def scenario(name: str) -> dict:
    return next(s for s in extrapolate(M, A)["scenarios"] if s["scenario"]["name"] == name)


def resource(s: dict, name: str) -> dict:
    return next(r for r in s["resources"] if r["name"] == name)


def test_the_province_by_hand() -> None:
    p = scenario("province")
    assert p["scale_from_district"] == pytest.approx(100)
    assert (p["sites"], p["equipment"]) == (4_000, 6_000)
    assert p["scenario"]["doses_per_day"] == pytest.approx(400_000)
    assert p["doses_per_s_peak_hour"] == pytest.approx(20.833333, rel=1e-6)
    assert p["tx_per_s"] == pytest.approx(25.152778, rel=1e-6)
    assert p["gas_per_s"] == pytest.approx(1_682_666.67, rel=1e-6)
    assert p["readings_per_s"] == pytest.approx(20)
    assert p["oracle_cores"] == pytest.approx(0.004)
    assert p["state_bytes_per_year"] == pytest.approx(7.3e9)
    assert p["history_bytes_per_year"] == pytest.approx(38.69e9)
    assert p["db_bytes_per_year"] == pytest.approx(167.9e9)
    assert resource(p, "chain_tx")["utilisation"] == pytest.approx(0.0252, abs=1e-4)
    assert resource(p, "chain_gas")["utilisation"] == pytest.approx(0.0337, abs=1e-4)
    assert resource(p, "backend_cpu")["required"] == pytest.approx(0.416667, rel=1e-5)
    # each site's wallet: 20.8333 × 1.2 / 4,000 tx/s × 2 s = 0.0125 pending, of 1,000
    assert resource(p, "sender_pool")["required"] == pytest.approx(0.0125)
    assert resource(p, "sender_pool")["need_en"] == "one custodial account per site is enough"
    assert resource(p, "database")["utilisation"] == pytest.approx(1.0074, abs=1e-4)
    assert p["first_to_run_out"] == "database"
    assert p["chain_first_to_run_out"] == "chain_gas"
    assert p["chain_fits"] is True
    assert resource(p, "database")["need_en"] == "3 database nodes (partitioned)"
    assert resource(p, "chain_tx")["need_en"] == "one chain is enough"


def test_the_national_peak_by_hand() -> None:
    n = scenario("national_peak")
    assert n["doses_per_s_peak_hour"] == pytest.approx(300)
    assert n["tx_per_s"] == pytest.approx(361.527778, rel=1e-6)
    assert n["chain_tx_utilisation_high"] == pytest.approx(361.527778 / 1_250, rel=1e-6)
    assert n["gas_per_s"] == pytest.approx(24_160_000)
    assert resource(n, "chain_gas")["utilisation"] == pytest.approx(0.4832)
    assert resource(n, "chain_gas")["need_en"] == "the block gas limit is enough"
    assert resource(n, "backend_cpu")["required"] == pytest.approx(6)
    assert resource(n, "backend_cpu")["need_en"] == "about 12 backend workers (6 hosts of 2 cores)"
    assert n["chain_fits"] is True


def test_a_chain_that_does_not_fit_names_the_gas_limit_it_needs() -> None:
    heavier = Assumptions(**{**A.__dict__, "national_peak_doses_per_day": 14.4e6})
    n = next(s for s in extrapolate(M, heavier)["scenarios"] if s["scenario"]["name"] == "national_peak")
    # 600 doses/s: 48 M gas/s for the doses + 160,000 for supply and cold chain = 48.16 M of 50 M a second.
    assert n["gas_per_s"] == pytest.approx(48_160_000)
    gas = resource(n, "chain_gas")
    assert gas["utilisation"] == pytest.approx(0.9632)
    assert n["chain_fits"] is False and n["chain_first_to_run_out"] == "chain_gas"
    # At 50 % utilisation with 2 s blocks: 48.16 M × 2 / 0.5 = 192.64 M a block, or two chains.
    assert gas["need_en"] == "a block gas limit of at least 193 M (2 s blocks), or 2 chains"


def test_every_assumption_is_labelled_in_both_languages() -> None:
    listed = extrapolate(M, A)["assumptions"]
    assert {a["name"] for a in listed} == set(A.__dict__)
    assert all(a["label_zh"] and a["label_en"] for a in listed)
