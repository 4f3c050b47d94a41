"""MAVLink mission command ids (MAV_CMD, from pymavlink's common.xml definitions) and their families.

A NAV command moves the aircraft (so an unknown one is an error: the path cannot be guessed); a DO command acts
at once; a CONDITION command delays the next DO commands (ArduPilot) or the mission (PX4). Frames: MAV_FRAME.
"""

from __future__ import annotations

from pymavlink.dialects.v20 import common as mavlink

C = mavlink  # the constants: C.MAV_CMD_NAV_WAYPOINT == 16

NAV_WAYPOINT = C.MAV_CMD_NAV_WAYPOINT
NAV_LOITER_UNLIM = C.MAV_CMD_NAV_LOITER_UNLIM
NAV_LOITER_TURNS = C.MAV_CMD_NAV_LOITER_TURNS
NAV_LOITER_TIME = C.MAV_CMD_NAV_LOITER_TIME
NAV_RTL = C.MAV_CMD_NAV_RETURN_TO_LAUNCH
NAV_LAND = C.MAV_CMD_NAV_LAND
NAV_TAKEOFF = C.MAV_CMD_NAV_TAKEOFF
NAV_CONTINUE_AND_CHANGE_ALT = C.MAV_CMD_NAV_CONTINUE_AND_CHANGE_ALT
NAV_LOITER_TO_ALT = C.MAV_CMD_NAV_LOITER_TO_ALT
NAV_ARC_WAYPOINT = C.MAV_CMD_NAV_ARC_WAYPOINT
NAV_SPLINE_WAYPOINT = C.MAV_CMD_NAV_SPLINE_WAYPOINT
NAV_VTOL_TAKEOFF = C.MAV_CMD_NAV_VTOL_TAKEOFF
NAV_VTOL_LAND = C.MAV_CMD_NAV_VTOL_LAND
NAV_GUIDED_ENABLE = C.MAV_CMD_NAV_GUIDED_ENABLE
NAV_DELAY = C.MAV_CMD_NAV_DELAY
NAV_PAYLOAD_PLACE = C.MAV_CMD_NAV_PAYLOAD_PLACE
NAV_ROI = C.MAV_CMD_NAV_ROI
NAV_ATTITUDE_TIME = 42703  # ArduPilot-specific (ardupilotmega.xml): hold an attitude for a time
NAV_SCRIPT_TIME = 42702  # ArduPilot-specific: a Lua script flies for a time
NAV_SET_YAW_SPEED = C.MAV_CMD_NAV_SET_YAW_SPEED
DO_JUMP = C.MAV_CMD_DO_JUMP
DO_CHANGE_SPEED = C.MAV_CMD_DO_CHANGE_SPEED
DO_SET_HOME = C.MAV_CMD_DO_SET_HOME
DO_SET_SERVO = C.MAV_CMD_DO_SET_SERVO
DO_REPEAT_SERVO = C.MAV_CMD_DO_REPEAT_SERVO
DO_SET_RELAY = C.MAV_CMD_DO_SET_RELAY
DO_LAND_START = C.MAV_CMD_DO_LAND_START
DO_RETURN_PATH_START = C.MAV_CMD_DO_RETURN_PATH_START
DO_GRIPPER = C.MAV_CMD_DO_GRIPPER
DO_WINCH = C.MAV_CMD_DO_WINCH
DO_SPRAYER = 216  # ArduPilot-specific (ardupilotmega.xml MAV_CMD_DO_SPRAYER)
DO_VTOL_TRANSITION = C.MAV_CMD_DO_VTOL_TRANSITION
CONDITION_DELAY = C.MAV_CMD_CONDITION_DELAY
CONDITION_DISTANCE = C.MAV_CMD_CONDITION_DISTANCE
CONDITION_YAW = C.MAV_CMD_CONDITION_YAW
CONDITION_CHANGE_ALT = C.MAV_CMD_CONDITION_CHANGE_ALT
CONDITION_GATE = C.MAV_CMD_CONDITION_GATE

FRAME_GLOBAL = C.MAV_FRAME_GLOBAL  # 0: MSL
FRAME_MISSION = C.MAV_FRAME_MISSION  # 2: no position (DO/CONDITION items)
FRAME_RELATIVE = C.MAV_FRAME_GLOBAL_RELATIVE_ALT  # 3: above home
FRAME_TERRAIN = C.MAV_FRAME_GLOBAL_TERRAIN_ALT  # 10: above the terrain
# every global frame by its datum (the _INT variants carry lat/lon as 1e7 integers on the link, same in a file)
DATUM = {C.MAV_FRAME_GLOBAL: "msl", C.MAV_FRAME_GLOBAL_INT: "msl", C.MAV_FRAME_GLOBAL_RELATIVE_ALT: "rel",
         C.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT: "rel", C.MAV_FRAME_GLOBAL_TERRAIN_ALT: "terrain",
         C.MAV_FRAME_GLOBAL_TERRAIN_ALT_INT: "terrain"}

# The ArduPilot-only ids that common.xml lacks, so that messages name them.
_EXTRA_NAMES = {NAV_ATTITUDE_TIME: "NAV_ATTITUDE_TIME", NAV_SCRIPT_TIME: "NAV_SCRIPT_TIME", DO_SPRAYER: "DO_SPRAYER",
                DO_VTOL_TRANSITION: "DO_VTOL_TRANSITION"}

def name(cmd: int) -> str:
    """'WAYPOINT', 'DO_JUMP', ... (the MAV_CMD name without its prefix), or 'command N'."""
    if cmd in _EXTRA_NAMES:
        return _EXTRA_NAMES[cmd]
    entry = mavlink.enums["MAV_CMD"].get(cmd)
    if entry is None or entry.name.endswith("ENUM_END"):
        return f"command {cmd}"
    return entry.name.removeprefix("MAV_CMD_").removeprefix("NAV_")


def family(cmd: int) -> str:
    """'nav', 'condition' or 'do' by MAVLink's numbering (NAV < 100, CONDITION 112-159, DO 176-252)."""
    if cmd < 100 or cmd in (NAV_ATTITUDE_TIME, NAV_SCRIPT_TIME):
        return "nav"
    if 112 <= cmd <= 159 or cmd == CONDITION_GATE:
        return "condition"
    return "do"
