// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {VaxRoles} from "../access/VaxRoles.sol";

/// @title FacilityRegistry
/// @notice Facilities of the district (manufacturers, the CDC warehouse, clinics),
/// their cold-chain equipment, and which account acts for which facility.
/// @dev Names and labels live in events only: contracts never need to read them.
abstract contract FacilityRegistry is VaxRoles {
    enum FacilityKind {
        None,
        Manufacturer,
        Warehouse,
        Clinic
    }

    enum EquipmentKind {
        None,
        Fridge,
        Freezer,
        ColdRoom,
        Vehicle,
        ColdBox
    }

    struct Facility {
        FacilityKind kind;
        bool active;
    }

    /// @dev One slot. `openItems` counts what quarantine must cover exactly:
    /// for storage, the distinct lots with stock in it; for a vehicle, the open
    /// shipments it carries. `underExcursion` is set by a quarantine and blocks
    /// new stock from entering until the excursion ends.
    struct Equipment {
        uint32 facility;
        EquipmentKind kind;
        bool active;
        bool underExcursion;
        uint32 openItems;
    }

    struct Membership {
        uint32 facility;
        FacilityKind kind;
    }

    uint32 public facilityCount;
    uint32 public equipmentCount;

    mapping(uint32 id => Facility) internal _facilities;
    mapping(uint32 id => Equipment) internal _equipment;
    mapping(address account => Membership) internal _members;

    event FacilityRegistered(uint32 indexed facility, FacilityKind kind, string name, bytes32 areaCode);
    event FacilityStatusChanged(uint32 indexed facility, bool active);
    event EquipmentRegistered(uint32 indexed equipment, uint32 indexed facility, EquipmentKind kind, string label);
    event EquipmentStatusChanged(uint32 indexed equipment, bool active);
    event MemberAdded(address indexed account, uint32 indexed facility);
    event MemberRemoved(address indexed account, uint32 indexed facility);

    error InvalidFacilityKind();
    error InvalidEquipmentKind();
    error UnknownFacility(uint32 facility);
    error FacilityInactive(uint32 facility);
    error UnknownEquipment(uint32 equipment);
    error EquipmentInactive(uint32 equipment);
    error NotAMember(address account);
    error AlreadyAMember(address account, uint32 facility);
    /// @notice The account does not act for the facility that holds the equipment or stock.
    error WrongFacility(address account, uint32 facility);

    /// @notice Registers a facility. Only the platform admin.
    /// @param kind Manufacturer, Warehouse (CDC) or Clinic.
    /// @param name Public name of the facility (not personal data).
    /// @param areaCode Administrative area (e.g. a street or town code), for reports.
    /// @return id The new facility id, counting from 1.
    function registerFacility(FacilityKind kind, string calldata name, bytes32 areaCode)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
        returns (uint32 id)
    {
        if (kind == FacilityKind.None) revert InvalidFacilityKind();
        id = ++facilityCount;
        _facilities[id] = Facility(kind, true);
        emit FacilityRegistered(id, kind, name, areaCode);
    }

    /// @notice Opens or closes a facility. Nothing new can be shipped to a closed facility
    /// nor lots registered by it; shipments already in transit can still be received, and
    /// its stock can still be shipped out.
    function setFacilityActive(uint32 facility, bool active) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _requireFacility(facility).active = active;
        emit FacilityStatusChanged(facility, active);
    }

    /// @notice Registers a piece of cold-chain equipment belonging to a facility.
    /// @param facility Owner of the equipment; it never changes.
    /// @param kind Fridge, Freezer, ColdRoom, Vehicle or ColdBox.
    /// @param label Public label, e.g. the asset tag.
    /// @return id The new equipment id, counting from 1.
    function registerEquipment(uint32 facility, EquipmentKind kind, string calldata label)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
        returns (uint32 id)
    {
        if (kind == EquipmentKind.None) revert InvalidEquipmentKind();
        _requireFacility(facility);
        id = ++equipmentCount;
        _equipment[id] = Equipment(facility, kind, true, false, 0);
        emit EquipmentRegistered(id, facility, kind, label);
    }

    /// @notice Takes equipment in or out of service; nothing can be put into equipment out of service.
    function setEquipmentActive(uint32 equipment, bool active) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _requireEquipment(equipment).active = active;
        emit EquipmentStatusChanged(equipment, active);
    }

    /// @notice Lets `account` act for `facility` and grants it the custodian role of the facility's kind.
    function addMember(address account, uint32 facility) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (account == address(0)) revert ZeroAddress();
        Membership memory current = _members[account];
        if (current.facility != 0) revert AlreadyAMember(account, current.facility);
        FacilityKind kind = _requireFacility(facility).kind;
        _members[account] = Membership(facility, kind);
        _grantRole(_custodianRole(kind), account);
        emit MemberAdded(account, facility);
    }

    /// @notice Ends `account`'s membership and revokes its custodian role.
    function removeMember(address account) external onlyRole(DEFAULT_ADMIN_ROLE) {
        Membership memory current = _members[account];
        if (current.facility == 0) revert NotAMember(account);
        delete _members[account];
        _revokeRole(_custodianRole(current.kind), account);
        emit MemberRemoved(account, current.facility);
    }

    /// @notice The facility's kind and whether it is open.
    function facility(uint32 id) external view returns (Facility memory) {
        return _facilities[id];
    }

    /// @notice The equipment's owner, kind and custody state.
    function equipment(uint32 id) external view returns (Equipment memory) {
        return _equipment[id];
    }

    /// @notice The facility `account` acts for, or zero.
    function membership(address account) external view returns (Membership memory) {
        return _members[account];
    }

    /// @notice The facility `account` may act for as a custodian; reverts if none.
    /// @dev Used by the appointments contract, which keeps no roles of its own.
    function custodianFacility(address account) external view returns (uint32 facilityId, FacilityKind kind) {
        Membership memory m = _custodian(account);
        return (m.facility, m.kind);
    }

    /// @dev A member whose custodian role is still held.
    function _custodian(address account) internal view returns (Membership memory m) {
        m = _members[account];
        if (m.facility == 0) revert NotAMember(account);
        if (!hasRole(_custodianRole(m.kind), account)) revert MissingRole(account);
    }

    function _custodianRole(FacilityKind kind) internal pure returns (bytes32) {
        if (kind == FacilityKind.Manufacturer) return MANUFACTURER_ROLE;
        if (kind == FacilityKind.Warehouse) return DISTRIBUTOR_ROLE;
        return CLINIC_ROLE;
    }

    function _requireFacility(uint32 id) internal view returns (Facility storage f) {
        f = _facilities[id];
        if (f.kind == FacilityKind.None) revert UnknownFacility(id);
    }

    function _requireEquipment(uint32 id) internal view returns (Equipment storage e) {
        e = _equipment[id];
        if (e.kind == EquipmentKind.None) revert UnknownEquipment(id);
    }

    /// @dev Equipment that can take stock in: in service and not vehicles
    /// (a vehicle carries shipments, not stock).
    function _requireStorage(uint32 id) internal view returns (Equipment storage e) {
        e = _requireEquipment(id);
        if (e.kind == EquipmentKind.Vehicle) revert InvalidEquipmentKind();
        if (!e.active) revert EquipmentInactive(id);
    }
}
