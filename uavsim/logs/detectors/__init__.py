"""Event detectors for one flight segment, one module per family (crash, attitude, health, vibration, motors,
autopilot notes). Every threshold comes from the rules table and every severity from ``Rules.make_event``;
event times are seconds from the segment's start, and each event carries the sample or message that proves
it. Checks that only mean something in the air are gated by the segment's airborne windows."""
