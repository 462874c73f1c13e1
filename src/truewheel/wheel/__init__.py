"""Reading wheels: file name, WHEEL, METADATA, RECORD and the zip container."""

from truewheel.wheel.archive import WheelArchive, record_mismatch
from truewheel.wheel.filename import WheelName
from truewheel.wheel.metadata import CoreMetadata, WheelInfo
from truewheel.wheel.record import RecordEntry, format_record, parse_record, record_digest
from truewheel.wheel.zipreader import Limits, ZipMember, ZipReader

__all__ = [
    "CoreMetadata",
    "Limits",
    "RecordEntry",
    "WheelArchive",
    "WheelInfo",
    "WheelName",
    "ZipMember",
    "ZipReader",
    "format_record",
    "parse_record",
    "record_digest",
    "record_mismatch",
]
