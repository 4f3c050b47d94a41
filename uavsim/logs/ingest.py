"""Importing logs: the one import path for operators, the web upload and the demo.

A face over :mod:`uavsim.logs.analysis` (RawLog -> flights and ground runs), :mod:`uavsim.logs.batch` (files
read in supervised workers and stored one transaction each) and :mod:`uavsim.logs.formats` (sniffing and
reading a file), so that callers import one module.
"""

from uavsim.logs.analysis import analyse, split_kinds
from uavsim.logs.batch import Context, FileResult, _init_worker, ingest, parse_file
from uavsim.logs.files import LOG_SUFFIXES, find_logs, sha256_of
from uavsim.logs.formats import read_log, sniff

__all__ = ["LOG_SUFFIXES", "Context", "FileResult", "_init_worker", "analyse", "find_logs", "ingest",
           "parse_file", "read_log", "sha256_of", "sniff", "split_kinds"]
