"""Every flown flight in its context (issue 14): the operator's manifest, inference from the track, and
conformance against the plan. The importer calls :func:`apply_context` once per flight."""

from uavsim.context.apply import (
    AnnotateResult,
    annotate,
    apply_context,
    load_manifest,
    manifest_for_logs,
    manifest_for_store,
    record_manifest,
)
from uavsim.context.manifest import Manifest, ManifestError, ManifestRow, read_manifest
from uavsim.context.model import ContextModel
from uavsim.context.record import simulated_context

__all__ = ["AnnotateResult", "ContextModel", "Manifest", "ManifestError", "ManifestRow", "annotate", "apply_context",
           "load_manifest", "manifest_for_logs", "manifest_for_store", "read_manifest", "record_manifest",
           "simulated_context"]
