"""The contracts' refusals as an API answers them: an HTTP status, a stable machine-readable reason
(the error's name in snake_case) and a sentence for the person at the counter, Chinese first.

A nurse scanning a vial from a quarantined fridge should read "this fridge's stock is quarantined after a
temperature excursion: do not use it", not "StockInQuarantine(lot=3, equipment=7)" (which is kept in the
answer's `chain_error` for support)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from chain.errors import ChainRevert


@dataclass(frozen=True)
class Refusal:
    status: int
    reason: str
    message_zh: str
    message_en: str
    chain_error: str


_CONFLICT, _FORBIDDEN, _NOT_FOUND, _BAD = 409, 403, 404, 422

# name -> (status, zh, en)
_TEXT: dict[str, tuple[int, str, str]] = {
    # who may act
    "MissingRole": (_FORBIDDEN, "该账户无权执行此操作", "this account may not do this"),
    "NotAMember": (_FORBIDDEN, "该账户不属于任何机构", "this account does not act for any facility"),
    "WrongFacility": (_FORBIDDEN, "库存或设备不属于本机构", "the stock or equipment belongs to another facility"),
    "NotAClinic": (_FORBIDDEN, "只有接种门诊可以执行此操作", "only a vaccination clinic may do this"),
    "NotAManufacturer": (_BAD, "该机构不是生产企业", "that facility is not a manufacturer"),
    "WrongSite": (_FORBIDDEN, "该预约时段属于其他接种点", "the slot belongs to another site"),
    "NotBooker": (
        _FORBIDDEN,
        "只有预约人或接种点可以取消此预约",
        "only the booker or the site may cancel this booking",
    ),
    # lots
    "LotNotReleased": (
        _CONFLICT,
        "该批次尚未签发，不得流通或接种",
        "the lot has no batch release yet: it may not be used",
    ),
    "LotUnderRecall": (_CONFLICT, "该批次已召回，停止使用", "the lot is recalled: do not use it"),
    "LotExpired": (_CONFLICT, "该批次已过期，不得接种", "the lot has expired: do not use it"),
    "LotNotRegistered": (_CONFLICT, "该批次状态不允许此操作", "the lot's status does not allow this"),
    "DuplicateLot": (_CONFLICT, "该产品的批号已登记", "this lot number is already registered for the product"),
    "UnknownLot": (_NOT_FOUND, "批次不存在", "no such lot"),
    "UnknownProduct": (_NOT_FOUND, "产品不存在", "no such product"),
    "InvalidExpiry": (_BAD, "有效期必须晚于现在", "the expiry must be in the future"),
    "InvalidLotNumber": (_BAD, "批号不能为空", "the lot number is empty"),
    "InvalidCertificate": (_BAD, "缺少签发证明", "the batch-release certificate is missing"),
    "InvalidNotice": (_BAD, "缺少召回通知", "the recall notice is missing"),
    "NotWholeUnits": (_BAD, "数量必须是整支（瓶）的剂次数", "the quantity must be a whole number of vials/syringes"),
    "ZeroQuantity": (_BAD, "数量必须大于零", "the quantity must be more than zero"),
    # stock and custody
    "NotHeld": (_CONFLICT, "该设备中没有此批次的疫苗", "this equipment holds none of this lot"),
    "InsufficientStock": (_CONFLICT, "库存不足", "not enough stock"),
    "StockInQuarantine": (
        _CONFLICT,
        "该设备中的疫苗因温度异常已被隔离，请勿使用",
        "the stock in this equipment is quarantined after a temperature excursion: do not use it",
    ),
    "StockReserved": (
        _CONFLICT,
        "本接种点该疫苗的库存已全部被预约占用",
        "every dose of this vaccine at the site is held for booked appointments",
    ),
    "InsufficientQuarantined": (_CONFLICT, "隔离库存不足", "not that many doses are quarantined there"),
    "EquipmentUnderExcursion": (
        _CONFLICT,
        "该设备正处于温度异常中，不能放入或放行疫苗",
        "the equipment is under a temperature excursion: nothing can go in or be released",
    ),
    "NoExcursion": (_CONFLICT, "该设备没有进行中的温度异常", "the equipment has no excursion in progress"),
    "EquipmentInactive": (_CONFLICT, "该设备已停用", "the equipment is out of service"),
    "FacilityInactive": (_CONFLICT, "该机构已停用", "the facility is closed"),
    "UnknownEquipment": (_NOT_FOUND, "设备不存在", "no such equipment"),
    "UnknownFacility": (_NOT_FOUND, "机构不存在", "no such facility"),
    "InvalidEquipmentKind": (_BAD, "设备类型不适用于此操作", "that kind of equipment cannot be used for this"),
    "NotAVehicle": (_BAD, "所选设备不是运输车辆", "the equipment chosen is not a vehicle"),
    "SameFacility": (_BAD, "不能发往本机构", "a shipment cannot go to the sender's own facility"),
    "SameEquipment": (_BAD, "移出与移入设备相同", "the source and target equipment are the same"),
    "UnknownShipment": (_NOT_FOUND, "发货单不存在", "no such shipment"),
    "ShipmentNotInTransit": (_CONFLICT, "该发货单已签收或已拒收", "the shipment was already received or refused"),
    "ShipmentInQuarantine": (
        _CONFLICT,
        "该批运输途中发生温度异常，已被隔离，不能签收",
        "the shipment is quarantined after an excursion in transit: it cannot be received",
    ),
    "ShipmentNotQuarantined": (_CONFLICT, "该发货单未被隔离", "the shipment is not quarantined"),
    "ExceedsShipment": (_BAD, "签收数量超过发货数量", "more doses accepted than were shipped"),
    "ReasonRequired": (_BAD, "请说明原因", "a reason is required"),
    "QuarantineListMismatch": (
        _CONFLICT,
        "设备中的库存刚刚发生变化，请重试",
        "the equipment's stock changed meanwhile: try again",
    ),
    # doses
    "UnitUsedUp": (
        _CONFLICT,
        "该追溯码的剂次已全部使用，疑为重复扫码或假冒产品",
        "every dose of this unit was already given: a repeated scan or a counterfeit",
    ),
    "UnitLotMismatch": (
        _CONFLICT,
        "该追溯码属于另一个批次，疑为扫码错误或假冒产品",
        "this unit's code belongs to another lot: a scanning error or a counterfeit",
    ),
    "BookingTypeMismatch": (_CONFLICT, "预约的疫苗种类与所用疫苗不符", "the booking is for another vaccine"),
    "UnknownDose": (_NOT_FOUND, "未找到该剂次的接种记录", "no such dose was recorded"),
    "InvalidAefi": (_BAD, "不良反应报告不完整", "the adverse-event report is incomplete"),
    # appointments
    "SlotFull": (_CONFLICT, "该时段已约满", "the slot is full"),
    "SlotClosed": (_CONFLICT, "该时段已结束", "the slot is over"),
    "SlotNotOver": (_CONFLICT, "时段尚未结束", "the slot is not over yet"),
    "UnknownSlot": (_NOT_FOUND, "时段不存在", "no such slot"),
    "InvalidSlot": (_BAD, "时段设置无效", "the slot is invalid"),
    "CapacityBelowBooked": (_CONFLICT, "容量不能少于已预约人数", "capacity cannot go below what is booked"),
    "UnknownBooking": (_NOT_FOUND, "预约不存在", "no such booking"),
    "BookingNotActive": (
        _CONFLICT,
        "该预约已完成、取消或爽约",
        "the booking is already completed, cancelled or missed",
    ),
    "BookedAtOtherSite": (_CONFLICT, "该预约属于其他接种点", "the booking is at another site"),
}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def refusal(revert: ChainRevert) -> Refusal:
    status, zh, en = _TEXT.get(revert.name, (_CONFLICT, "链上拒绝了此操作", "the ledger refused this"))
    return Refusal(status, _snake(revert.name), zh, en, revert.message)


def known() -> set[str]:
    return set(_TEXT)
