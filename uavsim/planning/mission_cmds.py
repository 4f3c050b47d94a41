"""What each mission command does to the flown path: one handler per command, one table per family.

Behaviour follows ArduPilot's documented mission commands (ArduCopter and ArduPlane/QuadPlane), which PX4
shares for the commands both support. See :mod:`uavsim.planning.mission` for the walk that calls them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from uavsim import geo
from uavsim.planning import mavcmd as mc
from uavsim.planning.items import SAME_POINT_M
from uavsim.planning.profile import local_crs

if TYPE_CHECKING:
    from uavsim.planning.items import Item
    from uavsim.planning.walk import Walk

# DO commands that change nothing the check judges (camera, mount, ROI, relay, fence, engine, ...): no warning
QUIET_DO = {179, 181, 182, 184, 187, 188, 190, 191, 192, 193, 194, 195, 196, 197, 198, 200, 201, 202, 203,
            204, 205, 206, 207, 209, 212, 214, 215, 217, 218, 220, 222, 223, 224, 530, 531, 1000, 1001, 2000, 2001,
            2003, 2004, 2500, 2501, 2502, 2503, 2504, 3000, 42006, 5300}
NAV_ALTITUDE_WAIT = 83  # ArduPlane-specific (ardupilotmega.xml): wait for an altitude (balloon launch)


# -- navigation ----------------------------------------------------------------------------------------------
def takeoff(w: Walk, it: Item) -> None:
    """TAKEOFF / VTOL_TAKEOFF: a vertical climb where the aircraft stands (ArduPilot ignores the position)."""
    lat, lon, _ = w.here
    alt, agl = w.altitude(it, lat, lon, keep_zero=False)
    if w.airborne:
        w.warnings.append(f"{w.name}: take-off while airborne: flown as a climb to its altitude")
    w.climb_here(alt, w.name, agl)


def waypoint(w: Walk, it: Item) -> None:
    """WAYPOINT / SPLINE_WAYPOINT (straight, as the spline's length differs little): p1 is the hold on a
    multirotor (ArduPlane ignores it)."""
    lat, lon = w.position(it)
    alt, agl = w.altitude(it, lat, lon)
    hold = it.params[0] if w.multirotor and math.isfinite(it.params[0]) and it.params[0] > 0 else 0.0
    w.go(lat, lon, alt, w.name, hold=hold, agl=agl)


def _radius(w: Walk, p: float) -> float:
    return abs(p) if math.isfinite(p) and abs(p) > 0 else w.ap.loiter_radius_m


def loiter_turns(w: Walk, it: Item) -> None:
    """LOITER_TURNS: p1 turns on a circle of radius p3 (default CIRCLE_RADIUS / WP_LOITER_RAD)."""
    lat, lon = w.position(it)
    alt, _ = w.altitude(it, lat, lon)
    turns = it.params[0] if math.isfinite(it.params[0]) else 1.0
    w.circle(lat, lon, alt, _radius(w, it.params[2]), max(turns, 0.0), w.name)


def loiter_time(w: Walk, it: Item) -> None:
    """LOITER_TIME: p1 seconds; a multirotor hovers, a plane circles at its loiter radius for that time."""
    lat, lon = w.position(it)
    alt, agl = w.altitude(it, lat, lon)
    t = max(it.params[0], 0.0) if math.isfinite(it.params[0]) else 0.0
    if w.multirotor:
        w.go(lat, lon, alt, w.name, hold=t, agl=agl)
        return
    r = _radius(w, it.params[2])
    w.circle(lat, lon, alt, r, t * w.ap.wp_speed_mps / (2 * math.pi * r), w.name)


def loiter_unlim(w: Walk, it: Item) -> None:
    w.warnings.append(f"{w.name}: LOITER_UNLIM never ends on its own; assessed as a pass over its position")
    waypoint(w, it)


def loiter_to_alt(w: Walk, it: Item) -> None:
    """LOITER_TO_ALT: fly to the point, then climb or descend there (a plane circles while it does)."""
    lat, lon = w.position(it)
    alt, agl = w.altitude(it, lat, lon, keep_zero=False)
    w.go(lat, lon, w.here[2], f"{w.name}: arrive")
    dz = abs(alt - w.here[2])
    if w.multirotor or not math.isfinite(dz):
        w.add(lat, lon, alt, w.name, agl=agl)
        return
    r = _radius(w, it.params[1])
    rate = w.ap.climb_mps if alt > w.here[2] else w.ap.descent_mps
    w.circle(lat, lon, alt, r, dz / rate * w.ap.wp_speed_mps / (2 * math.pi * r), w.name)


def continue_and_change_alt(w: Walk, it: Item) -> None:
    lat, lon, _ = w.here
    alt, agl = w.altitude(it, lat, lon, keep_zero=False)
    w.warnings.append(f"{w.name}: the course flown while the altitude changes is not known; checked in place")
    w.add(lat, lon, alt, w.name, agl=agl)


def arc_waypoint(w: Walk, it: Item) -> None:
    """ARC_WAYPOINT: p1 degrees of arc from here to the point (positive clockwise), as chords."""
    lat, lon = w.position(it)
    alt, agl = w.altitude(it, lat, lon)
    theta = math.radians(it.params[0]) if math.isfinite(it.params[0]) else 0.0
    if abs(theta) < 1e-3:
        w.go(lat, lon, alt, w.name, agl=agl)
        return
    crs = local_crs(lat, lon)
    (ax, bx), (ay, by) = geo.to_utm([w.here[0], lat], [w.here[1], lon], crs)
    chord = math.hypot(bx - ax, by - ay)
    r = chord / (2 * math.sin(abs(theta) / 2))
    mx, my = (ax + bx) / 2, (ay + by) / 2
    h = r * math.cos(abs(theta) / 2) * (1 if theta > 0 else -1)  # centre to the right for a clockwise arc
    ux, uy = (bx - ax) / chord, (by - ay) / chord
    cx, cy = mx + h * uy, my - h * ux
    a0 = math.atan2(ay - cy, ax - cx)
    k = max(int(math.ceil(36 * abs(theta) / (2 * math.pi))), 2)
    z0 = w.here[2]
    for j in range(1, k + 1):
        a = a0 - theta * j / k
        la, lo = geo.from_utm(cx + r * math.cos(a), cy + r * math.sin(a), crs)
        w.go(float(la), float(lo), z0 + (alt - z0) * j / k, w.name if j == k else f"{w.name}: arc",
             agl=agl if j == k else math.nan)


def land(w: Walk, it: Item) -> None:
    """LAND / VTOL_LAND: fly to the point (0, 0: here) at the current altitude and descend to the ground."""
    if not w.airborne:
        w.warnings.append(f"{w.name}: landing while on the ground, ignored")
        return
    lat, lon = w.position(it)
    w.touch_down(lat, lon, w.name)


def payload_place(w: Walk, it: Item) -> None:
    """PAYLOAD_PLACE: fly there, descend (at most p1 m, 0: to the ground) until the payload touches, release it
    and climb back to the height it came at (ArduCopter)."""
    lat, lon = w.position(it)
    cruise_alt, agl = w.here[2], w.agl[-1]
    w.go(lat, lon, cruise_alt, f"{w.name}: arrive", agl=agl)
    ground = w.ground_at(lat, lon)
    limit = it.params[0] if math.isfinite(it.params[0]) and it.params[0] > 0 else math.inf
    bottom = max(ground, cruise_alt - limit) if math.isfinite(ground) else ground
    w.add(lat, lon, bottom, f"{w.name}: payload placed", ground=bool(bottom == ground))
    w.releases.append(len(w.wps) - 1)
    w.payload.append({"index": len(w.wps) - 1, "event": "payload placed", "item": w.where})
    w.add(lat, lon, cruise_alt, f"{w.name}: climb back", agl=agl)


def delay(w: Walk, it: Item) -> None:
    """DELAY: p1 seconds (-1: until a time of day, unknown here). Waiting on the ground costs no energy."""
    t = it.params[0] if math.isfinite(it.params[0]) else -1.0
    if t < 0:
        w.warnings.append(f"{w.name}: waits until a time of day; the wait is not counted")
        return
    if w.airborne:
        w.hold[-1] += t
    else:
        w.ground_wait_s += t


def timed_nav(w: Walk, it: Item) -> None:
    """NAV_ATTITUDE_TIME / NAV_SCRIPT_TIME: the aircraft is flown by something else for a while; held here."""
    t = it.params[0] if it.command == mc.NAV_ATTITUDE_TIME else it.params[1]
    w.warnings.append(f"{w.name}: the path flown is not known; taken as a hold of {max(t, 0):.0f} s here")
    w.hold[-1] += max(t, 0.0) if math.isfinite(t) else 0.0


def ignored_nav(w: Walk, it: Item) -> None:
    """NAV commands that set a mode but not a position (ROI, GUIDED_ENABLE, SET_YAW_SPEED, ALTITUDE_WAIT)."""
    if it.command == mc.NAV_GUIDED_ENABLE:
        w.warnings.append(f"{w.name}: a companion computer may fly the aircraft from here; its path is not known")
    elif it.command == NAV_ALTITUDE_WAIT:
        w.warnings.append(f"{w.name}: waits for an altitude it does not fly to itself (a balloon launch); "
                          "the wait is not modelled")


def abort(w: Walk, it: Item) -> None:
    """DO commands that end or change the flight against the plan: a warning, the rest is still checked."""
    what = {mc.C.MAV_CMD_DO_FLIGHTTERMINATION: "terminates the flight", mc.C.MAV_CMD_DO_PARACHUTE:
            "may release the parachute", mc.C.MAV_CMD_DO_SET_MODE: "changes the flight mode (the path after it "
            "is the mode's, not the mission's)", mc.C.MAV_CMD_DO_SET_PARAMETER: "changes a parameter in flight"}
    w.warnings.append(f"{w.name}: {what.get(it.command, 'acts against the plan')}")


def return_to_launch(w: Walk, it: Item | None) -> None:
    """RTL with the autopilot's altitude rules (Autopilot.rtl_altitude_rel), then land at home."""
    if not w.airborne:
        w.warnings.append(f"{w.name}: RTL while on the ground, ignored")
        return
    hlat, hlon, halt = w.home
    lat, lon, z = w.here
    dist = float(geo.geodesic_distance(hlat, hlon, lat, lon))
    rel = w.ap.rtl_altitude_rel(z - halt, dist) if math.isfinite(z - halt) else math.nan
    label = w.name if it is not None else "RTL (assumed)"
    if w.ap.copter:
        w.climb_here(halt + rel, f"{label}: climb")
        if dist > SAME_POINT_M:
            w.add(hlat, hlon, w.here[2], f"{label}: over home")
        w.hold[-1] += w.ap.rtl_loiter_s
    else:  # ArduPlane climbs or descends to ALT_HOLD_RTL on the way home
        w.add(hlat, hlon, halt + rel, f"{label}: over home")
    w.add(hlat, hlon, halt, label, ground=True)


# -- DO and CONDITION ------------------------------------------------------------------------------------------
def change_speed(w: Walk, it: Item) -> None:
    if math.isfinite(it.params[1]) and it.params[1] > 0:
        w.speed = it.params[1]


def gripper(w: Walk, it: Item) -> None:
    """DO_GRIPPER: p2 0 releases (the payload is gone from the next leg on), 1 grabs."""
    if it.params[1] == 0:
        w.releases.append(len(w.wps) - 1)
        w.payload.append({"index": len(w.wps) - 1, "event": "gripper release", "item": w.where})
    else:
        w.payload.append({"index": len(w.wps) - 1, "event": "gripper grab", "item": w.where})


def winch(w: Walk, it: Item) -> None:
    w.payload.append({"index": len(w.wps) - 1, "event": f"winch action {it.params[1]:.0f}, length "
                      f"{it.params[2]:.1f} m", "item": w.where})


def servo(w: Walk, it: Item) -> None:
    """DO_SET_SERVO / DO_REPEAT_SERVO: a payload event; what it does to the mass is not known (kept on board)."""
    w.payload.append({"index": len(w.wps) - 1, "event": f"servo {it.params[0]:.0f} to {it.params[1]:.0f} us",
                      "item": w.where})


def sprayer(w: Walk, it: Item) -> None:
    here = len(w.wps) - 1
    if it.params[0] == 1 and (not w.spray or w.spray[-1][1] is not None):
        w.spray.append((here, None))
    elif it.params[0] == 0 and w.spray and w.spray[-1][1] is None:
        w.spray[-1] = (w.spray[-1][0], here)


def land_start(w: Walk, it: Item) -> None:
    if w.land_start is None:
        w.land_start = len(w.wps) - 1


def set_home(w: Walk, it: Item) -> None:
    """DO_SET_HOME: p1 1 = here, else the item's position (RTL returns there)."""
    if it.params[0] == 1:
        w.home = w.here if not w.airborne else (w.here[0], w.here[1], w.ground_at(w.here[0], w.here[1]))
    else:
        lat, lon = w.position(it)
        alt, _ = w.altitude(it, lat, lon, keep_zero=False)
        w.home = (lat, lon, alt)


def condition(w: Walk, it: Item) -> None:
    """CONDITION_*: ArduPilot holds the following DO commands until it is met while the aircraft flies on, so it
    adds no flight time; the wait it asks for is reported."""
    if it.command == mc.CONDITION_DELAY and math.isfinite(it.params[0]):
        w.payload.append({"index": len(w.wps) - 1, "event": f"next DO commands wait {it.params[0]:.0f} s",
                          "item": w.where})


def quiet(w: Walk, it: Item) -> None:
    """A DO command that changes nothing the check judges (camera, mount, relay, fence, ...)."""


def jump(w: Walk, it: Item, pc: int, by_seq: dict[int, int], done: dict[int, int]) -> int | None:
    """DO_JUMP p1 = target item, p2 = repeats; returns the next item's index, or None for a forever-repeat
    (p2 -1): the aircraft would circle the loop until someone stops it, so one lap is checked and the items
    after the jump, which it never reaches, are not."""
    target, repeat = int(it.params[0]) if math.isfinite(it.params[0]) else -1, it.params[1]
    if target not in by_seq:
        raise w.fail(f"DO_JUMP to item {target}, which the mission does not have")
    if not math.isfinite(repeat) or repeat < 0:
        w.warnings.append(f"{w.name}: DO_JUMP to item {target} repeats forever; one lap checked (the items after "
                          "it are never reached)")
        return None
    if done.get(pc, 0) < int(repeat):  # AP_Mission keeps each jump's count for the whole mission: an outer
        done[pc] = done.get(pc, 0) + 1  # loop does not re-run an inner jump that has completed
        return by_seq[target]
    return pc + 1


Handler = Callable[["Walk", "Item"], None]
NAV: dict[int, Handler] = {
    mc.NAV_WAYPOINT: waypoint, mc.NAV_SPLINE_WAYPOINT: waypoint, mc.NAV_LOITER_UNLIM: loiter_unlim,
    mc.NAV_LOITER_TURNS: loiter_turns, mc.NAV_LOITER_TIME: loiter_time, mc.NAV_RTL: return_to_launch,
    mc.NAV_LAND: land, mc.NAV_VTOL_LAND: land, mc.NAV_TAKEOFF: takeoff, mc.NAV_VTOL_TAKEOFF: takeoff,
    mc.NAV_CONTINUE_AND_CHANGE_ALT: continue_and_change_alt, mc.NAV_LOITER_TO_ALT: loiter_to_alt,
    mc.NAV_ARC_WAYPOINT: arc_waypoint, mc.NAV_DELAY: delay, mc.NAV_PAYLOAD_PLACE: payload_place,
    mc.NAV_ATTITUDE_TIME: timed_nav, mc.NAV_SCRIPT_TIME: timed_nav, mc.NAV_ROI: ignored_nav,
    mc.NAV_GUIDED_ENABLE: ignored_nav, mc.NAV_SET_YAW_SPEED: ignored_nav, NAV_ALTITUDE_WAIT: ignored_nav,
}
DO: dict[int, Handler] = {
    mc.DO_CHANGE_SPEED: change_speed, mc.DO_GRIPPER: gripper, mc.DO_WINCH: winch, mc.DO_SET_SERVO: servo,
    mc.DO_REPEAT_SERVO: servo, mc.DO_SPRAYER: sprayer, mc.DO_LAND_START: land_start, mc.DO_SET_HOME: set_home,
    mc.C.MAV_CMD_DO_FLIGHTTERMINATION: abort, mc.C.MAV_CMD_DO_PARACHUTE: abort, mc.C.MAV_CMD_DO_SET_MODE: abort,
    mc.C.MAV_CMD_DO_SET_PARAMETER: abort,
}
CONDITION: dict[int, Handler] = {c: condition for c in (mc.CONDITION_DELAY, mc.CONDITION_DISTANCE,
                                                        mc.CONDITION_YAW, mc.CONDITION_CHANGE_ALT,
                                                        mc.CONDITION_GATE)}
HANDLERS: dict[int, Handler] = {**{c: quiet for c in QUIET_DO}, **NAV, **DO, **CONDITION}
