// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title VaxRoles
/// @notice The roles of the district platform, held in one place so that every
/// module of the ledger checks the same grants.
/// @dev DEFAULT_ADMIN_ROLE (the platform operator) registers facilities and
/// grants roles; custodian roles (manufacturer, distributor, clinic) are granted
/// together with a facility membership by {FacilityRegistry-addMember}.
abstract contract VaxRoles is AccessControl {
    bytes32 public constant REGULATOR_ROLE = keccak256("REGULATOR_ROLE");
    bytes32 public constant MANUFACTURER_ROLE = keccak256("MANUFACTURER_ROLE");
    /// @dev The district CDC: its warehouse distributes, its officers quarantine and release.
    bytes32 public constant DISTRIBUTOR_ROLE = keccak256("DISTRIBUTOR_ROLE");
    bytes32 public constant CLINIC_ROLE = keccak256("CLINIC_ROLE");
    bytes32 public constant ORACLE_ROLE = keccak256("ORACLE_ROLE");

    /// @notice The account holds none of the roles the action needs.
    error MissingRole(address account);

    error ZeroAddress();

    constructor(address admin) {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @dev Reverts unless `account` holds `a` or `b`.
    function _checkEitherRole(bytes32 a, bytes32 b, address account) internal view {
        if (!hasRole(a, account) && !hasRole(b, account)) revert MissingRole(account);
    }

    /// @dev Reverts unless `account` holds `a`, `b` or `c`.
    function _checkAnyRole(bytes32 a, bytes32 b, bytes32 c, address account) internal view {
        if (!hasRole(a, account) && !hasRole(b, account) && !hasRole(c, account)) {
            revert MissingRole(account);
        }
    }
}
