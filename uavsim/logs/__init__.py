"""Flight-log import: MAVLink .tlog, ArduPilot DataFlash .bin/.log and PX4 .ulg into classified flights.

Layers, one way: readers (:mod:`.dataflash`, :mod:`.tlog`, :mod:`.ulog`) -> :class:`~.raw.RawLog` (columns on
one boot clock, plus notes) -> :mod:`.segment` (flights) -> :mod:`.detect` (events with evidence) -> the
shared :func:`uavsim.safety.classify.classify` -> the store (:func:`.ingest.ingest`).

Decisions that are not obvious:
- Only the message types the analysis needs are decoded. pymavlink parses formats and indexes the
  messages; whole types are then decoded at once with numpy (bit-identical to pymavlink, tested), which is
  where the speed over pymavlink's full parse comes from.
- Time is the autopilot's boot clock, made monotonic across reboots; a reboot while armed ends the flight
  with an unknown end. File time stamps (GCS receive times, pymavlink's clock model) are never used.
- A flight is an armed interval that left the ground (height or speed rule of MISSION.md, or the
  autopilot's own take-off detection). Arming and disarming on the ground is not a flight; it is counted in
  the file summary, and any occurrence in it is listed there, so nothing is dropped silently.
- Repeats of one occurrence (a failsafe raised ten times) are one event with a count; "resolved" codes
  annotate the event, they never remove it.
- Unknown is never safe: a log that ends armed without evidence of landing is LOG_TRUNCATED_IN_AIR.
"""

from uavsim.logs.formats import read_log, sniff
from uavsim.logs.ingest import FileResult, analyse, find_logs, ingest, parse_file

__all__ = ["FileResult", "analyse", "find_logs", "ingest", "parse_file", "read_log", "sniff"]
