// A dose's provenance (GET /v1/me/family/{id}/doses) as steps a person can read: manufacturer → batch
// release → each transport leg → each storage stay → the clinic. Each leg and stay carries a verdict on
// its anchored temperature record against the product's storage range. Pure: the page words the keys.

function place(p) {
  if (!p) return "—";
  return [p.equipment, p.facility].filter(Boolean).join(" · ") || `#${p.equipment_id}`;
}

/** What the anchored readings say about a leg or a stay. */
export function coldChainVerdict(summary, range) {
  if (!summary || !summary.readings) return { tone: "neutral", key: "cold.none", vars: {} };
  const vars = { count: summary.readings, min: summary.min_c, max: summary.max_c };
  if (summary.excursions?.length) return { tone: "bad", key: "cold.excursions", vars: { ...vars, excursions: summary.excursions.length } };
  const [low, high] = range || [2, 8];
  if (summary.min_c < low || summary.max_c > high) return { tone: "bad", key: "cold.out_of_range", vars: { ...vars, low, high } };
  return { tone: "ok", key: "cold.in_range", vars: { ...vars, low, high } };
}

export function doseSteps(dose) {
  const range = dose.lot?.storage_range_c;
  return dose.timeline.map((step) => {
    switch (step.step) {
      case "manufactured":
        return { kind: step.step, key: "timeline.manufactured", vars: { maker: step.facility || dose.lot.manufacturer || "—" }, at: step.at };
      case "batch_released":
        return { kind: step.step, key: "timeline.released", vars: { lot: dose.lot.lot_number }, at: step.at, proof: step.certificate_hash };
      case "transport":
        return {
          kind: step.step,
          key: "timeline.transport",
          vars: { from: place(step.from), to: place(step.to), vehicle: place(step.vehicle) },
          since: step.since,
          until: step.until,
          cold: coldChainVerdict(step.cold_chain, range),
        };
      case "storage":
        return {
          kind: step.step,
          key: "timeline.storage",
          vars: { place: place(step) },
          since: step.since,
          until: step.until,
          cold: coldChainVerdict(step.cold_chain, range),
        };
      case "administered":
        return { kind: step.step, key: "timeline.administered", vars: { clinic: step.facility || "—" }, at: step.at };
      default:
        return { kind: step.step, key: `timeline.${step.step}`, vars: {}, at: step.at ?? step.since };
    }
  });
}
