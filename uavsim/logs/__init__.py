"""Flight-log import: MAVLink .tlog, ArduPilot DataFlash .bin/.log and PX4 .ulg into classified flights.

Layers: readers (dataflash, tlog, ulog) -> :class:`~uavsim.logs.raw.RawLog` -> segmentation -> detectors
-> the shared classification -> the store. See :func:`uavsim.logs.ingest.ingest`.
"""

from uavsim.logs.ingest import FileResult, analyse, find_logs, ingest, parse_file, read_log, sniff

__all__ = ["FileResult", "analyse", "find_logs", "ingest", "parse_file", "read_log", "sniff"]
