// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {FacilityRegistry} from "./FacilityRegistry.sol";

/// @title LotRegistry
/// @notice Vaccine products, their lots, batch release by the regulator and recall.
/// @dev A lot copies the product facts that custody and dose checks need
/// (vaccine type, doses per unit, manufacturer) so a dose reads one slot.
abstract contract LotRegistry is FacilityRegistry {
    enum LotStatus {
        None,
        Registered,
        Released,
        Recalled
    }

    /// @dev Storage range in tenths of a degree Celsius (+2.0..+8.0 °C is 20..80).
    struct Product {
        uint32 manufacturer;
        bytes8 vaccineType;
        uint8 dosesPerUnit;
        bool selfPaid;
        int16 minTempDeciC;
        int16 maxTempDeciC;
    }

    /// @dev One slot: 32 + 32 + 64 + 40 + 8 + 8 + 64 = 248 bits.
    struct Lot {
        uint32 product;
        uint32 manufacturer;
        bytes8 vaccineType;
        uint40 expiry;
        uint8 dosesPerUnit;
        LotStatus status;
        uint64 produced;
    }

    uint32 public productCount;
    uint32 public lotCount;

    mapping(uint32 id => Product) internal _products;
    mapping(uint32 id => Lot) internal _lots;
    mapping(bytes32 productAndNumber => uint32 id) internal _lotIds;

    event ProductRegistered(
        uint32 indexed product,
        uint32 indexed manufacturer,
        bytes8 vaccineType,
        uint8 dosesPerUnit,
        bool selfPaid,
        int16 minTempDeciC,
        int16 maxTempDeciC,
        string name
    );
    event LotRegistered(
        uint32 indexed lot,
        uint32 indexed product,
        bytes32 lotNumber,
        uint40 expiry,
        uint64 doses,
        uint32 equipment
    );
    event LotReleased(uint32 indexed lot, bytes32 certificateHash);
    event LotRecalled(uint32 indexed lot, address indexed by, bytes32 noticeHash);

    error InvalidVaccineType();
    error InvalidDosesPerUnit();
    error InvalidStorageRange(int16 minTempDeciC, int16 maxTempDeciC);
    error NotAManufacturer(uint32 facility);
    error UnknownProduct(uint32 product);
    error UnknownLot(uint32 lot);
    error DuplicateLot(uint32 product, bytes32 lotNumber);
    error InvalidLotNumber();
    error InvalidExpiry(uint40 expiry);
    error ZeroQuantity();
    error NotWholeUnits(uint64 quantity, uint8 dosesPerUnit);
    error InvalidCertificate();
    error InvalidNotice();
    error LotNotRegistered(uint32 lot, LotStatus status);
    error LotNotReleased(uint32 lot);
    error LotUnderRecall(uint32 lot);
    error LotExpired(uint32 lot, uint40 expiry);

    /// @notice Registers a licensed product. Only the regulator.
    /// @param manufacturer The licence holder's facility.
    /// @param vaccineType Schedule code of the vaccine, e.g. "HepB", "MMR" (ASCII, right-padded).
    /// @param dosesPerUnit Doses in one smallest sale unit (vial or syringe).
    /// @param selfPaid True for self-paid vaccines, false for the national programme.
    /// @param minTempDeciC Lowest storage temperature, tenths of °C.
    /// @param maxTempDeciC Highest storage temperature, tenths of °C.
    /// @param name Public product name.
    /// @return id The new product id, counting from 1.
    function registerProduct(
        uint32 manufacturer,
        bytes8 vaccineType,
        uint8 dosesPerUnit,
        bool selfPaid,
        int16 minTempDeciC,
        int16 maxTempDeciC,
        string calldata name
    ) external onlyRole(REGULATOR_ROLE) returns (uint32 id) {
        if (_requireFacility(manufacturer).kind != FacilityKind.Manufacturer) revert NotAManufacturer(manufacturer);
        if (vaccineType == bytes8(0)) revert InvalidVaccineType();
        if (dosesPerUnit == 0) revert InvalidDosesPerUnit();
        if (minTempDeciC >= maxTempDeciC) revert InvalidStorageRange(minTempDeciC, maxTempDeciC);
        id = ++productCount;
        _products[id] = Product(manufacturer, vaccineType, dosesPerUnit, selfPaid, minTempDeciC, maxTempDeciC);
        emit ProductRegistered(id, manufacturer, vaccineType, dosesPerUnit, selfPaid, minTempDeciC, maxTempDeciC, name);
    }

    /// @notice Registers a produced lot; its doses enter the manufacturer's `equipment`.
    /// Only a member of the product's manufacturer.
    /// @param product The product id.
    /// @param lotNumber The batch number printed on the pack (GS1 AI 10), ASCII right-padded.
    /// @param expiry Last second (unix time) at which the lot may be administered.
    /// @param doses Doses produced: a whole number of units.
    /// @param equipment Where the lot is stored at the manufacturer.
    /// @return id The new lot id, counting from 1.
    function registerLot(uint32 product, bytes32 lotNumber, uint40 expiry, uint64 doses, uint32 equipment)
        external
        returns (uint32 id)
    {
        Product memory p = _products[product];
        if (p.manufacturer == 0) revert UnknownProduct(product);
        Membership memory m = _custodian(msg.sender);
        if (m.facility != p.manufacturer) revert WrongFacility(msg.sender, p.manufacturer);
        if (!_facilities[p.manufacturer].active) revert FacilityInactive(p.manufacturer);
        if (lotNumber == bytes32(0)) revert InvalidLotNumber();
        // Expiry is months away: a validator's seconds of clock skew cannot change the answer.
        // slither-disable-next-line timestamp
        if (expiry <= block.timestamp) revert InvalidExpiry(expiry);
        if (doses == 0) revert ZeroQuantity();
        if (doses % p.dosesPerUnit != 0) revert NotWholeUnits(doses, p.dosesPerUnit);
        bytes32 key = keccak256(abi.encode(product, lotNumber));
        if (_lotIds[key] != 0) revert DuplicateLot(product, lotNumber);

        id = ++lotCount;
        _lotIds[key] = id;
        _lots[id] = Lot(product, p.manufacturer, p.vaccineType, expiry, p.dosesPerUnit, LotStatus.Registered, doses);
        emit LotRegistered(id, product, lotNumber, expiry, doses, equipment);
        _commission(id, p.manufacturer, p.vaccineType, equipment, doses);
    }

    /// @notice Records the regulator's batch release; only released lots may be distributed.
    /// @param lot The lot id.
    /// @param certificateHash Hash of the batch-release certificate document.
    function releaseLot(uint32 lot, bytes32 certificateHash) external onlyRole(REGULATOR_ROLE) {
        if (certificateHash == bytes32(0)) revert InvalidCertificate();
        Lot storage l = _requireLot(lot);
        if (l.status != LotStatus.Registered) revert LotNotRegistered(lot, l.status);
        l.status = LotStatus.Released;
        emit LotReleased(lot, certificateHash);
    }

    /// @notice Recalls a lot at once: no further shipment or dose. By the regulator
    /// or a member of the lot's manufacturer.
    /// @param lot The lot id.
    /// @param noticeHash Hash of the recall notice.
    function recallLot(uint32 lot, bytes32 noticeHash) external {
        if (noticeHash == bytes32(0)) revert InvalidNotice();
        Lot storage l = _requireLot(lot);
        if (!hasRole(REGULATOR_ROLE, msg.sender)) {
            Membership memory m = _custodian(msg.sender);
            if (m.facility != l.manufacturer) revert WrongFacility(msg.sender, l.manufacturer);
        }
        if (l.status == LotStatus.Recalled) revert LotUnderRecall(lot);
        l.status = LotStatus.Recalled;
        emit LotRecalled(lot, msg.sender, noticeHash);
    }

    /// @notice A product's facts.
    function product(uint32 id) external view returns (Product memory) {
        return _products[id];
    }

    /// @notice A lot's facts and status.
    function lot(uint32 id) external view returns (Lot memory) {
        return _lots[id];
    }

    /// @notice The id of `product`'s lot `lotNumber`, or zero.
    function lotIdOf(uint32 product_, bytes32 lotNumber) external view returns (uint32) {
        return _lotIds[keccak256(abi.encode(product_, lotNumber))];
    }

    /// @dev Puts a new lot's doses into stock; implemented by custody.
    function _commission(uint32 lot, uint32 facility, bytes8 vaccineType, uint32 equipment, uint64 doses)
        internal
        virtual;

    function _requireLot(uint32 id) internal view returns (Lot storage l) {
        l = _lots[id];
        if (l.status == LotStatus.None) revert UnknownLot(id);
    }

    /// @dev A lot that may leave a holder or be administered: released, not recalled, not expired.
    function _requireUsable(uint32 id, Lot memory l) internal view {
        if (l.status != LotStatus.Released) {
            if (l.status == LotStatus.Recalled) revert LotUnderRecall(id);
            if (l.status == LotStatus.None) revert UnknownLot(id);
            revert LotNotReleased(id);
        }
        // Expiry is a date: a validator's seconds of clock skew around it are immaterial.
        // slither-disable-next-line timestamp
        if (block.timestamp > l.expiry) revert LotExpired(id, l.expiry);
    }
}
