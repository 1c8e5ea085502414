// Every page: its address, the roles that may open it, and its place in the navigation of each role.

import { auditView } from "./views/regulator/audit.js";
import { recallView, releaseView } from "./views/regulator/lots.js";
import { alarmsView } from "./views/cdc/alarms.js";
import { boardView } from "./views/cdc/board.js";
import { equipmentView } from "./views/cdc/equipment.js";
import { quarantineView } from "./views/cdc/quarantine.js";
import { districtStockView } from "./views/cdc/stock.js";
import { coverageView } from "./views/cdc/coverage.js";
import { bookingsView } from "./views/citizen/bookings.js";
import { dueView } from "./views/citizen/due.js";
import { familyView } from "./views/citizen/family.js";
import { noticesView } from "./views/citizen/notices.js";
import { recordsView } from "./views/citizen/records.js";
import { schoolPassView } from "./views/citizen/school.js";
import { sitesView } from "./views/citizen/sites.js";
import { adminView } from "./views/admin.js";
import { verifyView } from "./views/school/verify.js";
import { aefiView } from "./views/staff/aefi.js";
import { appointmentsView } from "./views/staff/appointments.js";
import { doseView } from "./views/staff/dose.js";
import { receiveView } from "./views/staff/receive.js";
import { shipView } from "./views/staff/ship.js";
import { stockView } from "./views/staff/stock.js";

const CITIZEN = ["citizen"];
const CDC = ["cdc", "regulator"];

// nav: the label key, when the page is in the navigation bar of these roles (in this order)
export const ROUTES = [
  { path: "/citizen/family", view: familyView, roles: CITIZEN, nav: "nav.family" },
  { path: "/citizen/sites", view: sitesView, roles: CITIZEN, nav: "nav.sites" },
  { path: "/citizen/bookings", view: bookingsView, roles: CITIZEN, nav: "nav.bookings" },
  { path: "/citizen/records", view: recordsView, roles: CITIZEN, nav: "nav.records" },
  { path: "/citizen/records/:id", view: recordsView, roles: CITIZEN },
  { path: "/citizen/due", view: dueView, roles: CITIZEN, nav: "nav.due" },
  { path: "/citizen/due/:id", view: dueView, roles: CITIZEN },
  { path: "/citizen/school", view: schoolPassView, roles: CITIZEN, nav: "nav.school_pass" },
  { path: "/citizen/school/:id", view: schoolPassView, roles: CITIZEN },
  { path: "/citizen/notices", view: noticesView, roles: CITIZEN, nav: "nav.notices" },

  { path: "/clinic/appointments", view: appointmentsView, roles: ["clinic"], nav: "nav.appointments" },
  { path: "/clinic/dose", view: doseView, roles: ["clinic"], nav: "nav.dose" },
  { path: "/staff/receive", view: receiveView, roles: ["clinic", "warehouse", "cdc"], nav: "nav.receive" },
  { path: "/staff/stock", view: stockView, roles: ["clinic", "warehouse", "cdc", "manufacturer"], nav: "nav.stock" },
  { path: "/clinic/aefi", view: aefiView, roles: ["clinic"], nav: "nav.aefi" },
  { path: "/staff/ship", view: shipView, roles: ["warehouse", "cdc", "manufacturer"], nav: "nav.ship" },

  { path: "/cdc/board", view: boardView, roles: CDC, nav: "nav.board" },
  { path: "/cdc/alarms", view: alarmsView, roles: CDC, nav: "nav.alarms" },
  { path: "/cdc/equipment/:id", view: equipmentView, roles: CDC },
  { path: "/cdc/quarantine", view: quarantineView, roles: CDC, nav: "nav.quarantine" },
  { path: "/cdc/stock", view: districtStockView, roles: CDC, nav: "nav.district_stock" },
  { path: "/cdc/coverage", view: coverageView, roles: CDC, nav: "nav.coverage" },

  { path: "/regulator/release", view: releaseView, roles: ["regulator"], nav: "nav.release" },
  { path: "/regulator/recall", view: recallView, roles: ["regulator"], nav: "nav.recall" },
  { path: "/regulator/recall/:id", view: recallView, roles: ["regulator"] },
  { path: "/regulator/audit", view: auditView, roles: ["regulator"], nav: "nav.audit" },
  { path: "/regulator/audit/:id", view: auditView, roles: ["regulator"] },

  { path: "/school/verify", view: verifyView, roles: ["school"], nav: "nav.verify" },
  { path: "/admin", view: adminView, roles: ["admin"], nav: "nav.admin" },
];

const HOMES = {
  citizen: "/citizen/family",
  clinic: "/clinic/appointments",
  warehouse: "/staff/stock",
  manufacturer: "/staff/stock",
  cdc: "/cdc/board",
  regulator: "/regulator/release",
  school: "/school/verify",
  admin: "/admin",
};

export function home(role) {
  return HOMES[role] || "/login";
}

/** The navigation of a role; the regulator's list puts its own pages before the CDC's it may also see. */
export function navigation(role) {
  const mine = ROUTES.filter((r) => r.nav && r.roles.includes(role));
  return role === "regulator" ? [...mine.filter((r) => r.roles.length === 1), ...mine.filter((r) => r.roles.length > 1)] : mine;
}
