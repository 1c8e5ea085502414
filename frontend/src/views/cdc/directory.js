// Facility and equipment names for ids (GET /v1/facilities), fetched once per page.

import { get } from "../../core/api.js";

export function facilities(signal) {
  return get("/v1/facilities", { signal });
}

export function facilityName(directory, id) {
  return directory.find((f) => f.id === id)?.name ?? (id === null || id === undefined ? "—" : `#${id}`);
}

export function equipmentIndex(directory) {
  const index = new Map();
  for (const facility of directory) for (const e of facility.equipment) index.set(e.id, { ...e, facility });
  return index;
}
