// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {VaxRoles} from "./access/VaxRoles.sol";
import {DoseLedger} from "./supply/DoseLedger.sol";

/// @title VaccineLedger
/// @notice The district's vaccine supply chain in one contract: facilities and
/// equipment, lots and batch release, custody and quarantine, recalls, and doses.
/// @dev Each concept is its own module (see supply/); they are deployed together
/// because a dose must check lot, stock, site and unit in one call: a call to a
/// second contract costs at least 2,600 gas of cold access, and a dose's budget is 70,000.
contract VaccineLedger is DoseLedger {
    constructor(address admin) VaxRoles(admin) {}
}
